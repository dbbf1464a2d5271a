"""The run's checkpoint files: Lightning ``ModelCheckpoint`` callbacks that keep a few of them.

``checkpoint_callbacks`` gives

- the periodic checkpoints ``epochNNN-iterationNNNNNN.ckpt``, every ``checkpoint_frequency``
  epochs or iterations, of which the ``keep_checkpoints`` most recent are kept (Lightning's
  top-k on the training step, highest first: the older ones are deleted as new ones come),
  and ``last.ckpt``, a relative symbolic link to the latest (a copy where links are refused);
- with ``output_network="best-validation-loss"`` or ``"best-validation-metric"``, ``best.ckpt``:
  the training state at the best validation so far (top-1 on ``val_loss``, or on
  ``val_<objective_metric>``, which :class:`~pixelseg.training.module.SegmentationTask` logs
  after each validation).

Each is a complete training checkpoint: ``TrainingOptions(resume_from=...)`` and
``load_network`` read any of them. The fault checkpoints (``last-good.ckpt``,
``interrupted.ckpt``) are :class:`~pixelseg.training.callbacks.fault.FaultCheckpoint`'s.
"""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch.callbacks import ModelCheckpoint

__all__ = ["checkpoint_callbacks", "PERIODIC_NAME", "BEST_NAME"]

PERIODIC_NAME = "epoch{epoch:03d}-iteration{step:06d}"
BEST_NAME = "best"


def checkpoint_callbacks(folder: str | Path, keep: int = 2, frequency: int = 1, unit: str = "epoch",
                         output_network: str = "last-iteration",
                         objective_metric: str = "mean_iou") -> list[ModelCheckpoint]:
    """The ``ModelCheckpoint`` callbacks writing into ``folder``.

    Args:
        folder: the checkpoint folder (``TrainingOptions.checkpoint_dir``).
        keep: periodic checkpoints kept (>= 1), the most recent ones.
        frequency, unit: a periodic checkpoint every ``frequency`` ``"epoch"`` s or ``"iteration"`` s.
        output_network: ``"best-validation-loss"`` / ``"best-validation-metric"`` add ``best.ckpt``.
        objective_metric: the metric of ``"best-validation-metric"`` (``"mean_iou"``, ``"global_accuracy"``).
    """
    every = {"every_n_epochs": frequency} if unit == "epoch" else {"every_n_train_steps": frequency}
    periodic = ModelCheckpoint(dirpath=folder, filename=PERIODIC_NAME, auto_insert_metric_name=False,
                               monitor="step", mode="max", save_top_k=keep, save_last="link",
                               save_on_train_epoch_end=True, **every)
    if output_network == "last-iteration":
        return [periodic]
    monitor, mode = ("val_loss", "min") if output_network == "best-validation-loss" \
        else (f"val_{objective_metric}", "max")
    best = ModelCheckpoint(dirpath=folder, filename=BEST_NAME, auto_insert_metric_name=False, monitor=monitor,
                           mode=mode, save_top_k=1, save_on_train_epoch_end=False, every_n_epochs=1)
    return [periodic, best]
