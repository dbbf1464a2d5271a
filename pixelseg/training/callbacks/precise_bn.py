"""``PreciseBatchNorm``: batch-norm statistics recomputed before each validation and at the end."""

from __future__ import annotations

import lightning.pytorch as pl
import torch

from pixelseg.training.precise_bn import batch_norm_layers, recompute_batch_norm_statistics, sample_batches

__all__ = ["PreciseBatchNorm"]


class PreciseBatchNorm(pl.Callback):
    """Recompute the running statistics of the task's batch-norm layers from ``num_batches``
    random training mini-batches (see :mod:`pixelseg.training.precise_bn`) before every
    validation and when training ends, so validation scores, the best-network selection, the
    checkpoints and the returned network all use statistics of the current weights.

    Args:
        dataset: the training data set (samples as the training loader yields them).
        num_batches: mini-batches to average over (>= 1).
        batch_size: samples per mini-batch (the per-process mini-batch of training).
        seed: picks the samples, with the iteration and the process rank (so a resumed run
            draws what the uninterrupted one would).
    """

    def __init__(self, dataset, num_batches: int, batch_size: int, seed: int = 0) -> None:
        self.dataset, self.num_batches, self.batch_size, self.seed = dataset, num_batches, batch_size, seed
        self.done_at: int | None = None  # the iteration whose weights the statistics belong to

    def _recompute(self, trainer, pl_module) -> None:
        network = pl_module.network
        if not batch_norm_layers(network) or self.done_at == trainer.global_step:
            return
        fmt = getattr(pl_module, "memory_format", torch.contiguous_format)
        batches = sample_batches(self.dataset, self.num_batches, self.batch_size,
                                 seed=self.seed + 1_000_003 * trainer.global_rank + trainer.global_step)
        recompute_batch_norm_statistics(network, batches, device=pl_module.device, memory_format=fmt)
        self.done_at = trainer.global_step

    def on_validation_start(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._recompute(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self._recompute(trainer, pl_module)
