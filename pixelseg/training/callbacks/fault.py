"""``FaultCheckpoint``: a checkpoint to resume from after a NaN loss or Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl

from pixelseg.training.faults import TrainingDivergedError, is_resumable_fault

__all__ = ["FaultCheckpoint"]


class FaultCheckpoint(pl.Callback):
    """Write ``last-good.ckpt`` when the loss became NaN, ``interrupted.ckpt`` on Ctrl-C.

    The NaN is caught before the backward pass and the optimizer step, and the task's
    :class:`~pixelseg.training.guard.DivergenceGuard` has put back the last state with finite
    weights, statistics and scores, so ``last-good.ckpt`` holds that state (nothing is written
    when there is none). ``train_network`` reads :attr:`path` and :attr:`interrupted` to
    build its error message.

    Args:
        folder: the checkpoint folder, or None (nothing is written).

    Attributes:
        path: the checkpoint written, or None.
        interrupted: True after Ctrl-C.
    """

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.path: Path | None = None
        self.interrupted = False

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        self.interrupted = isinstance(exception, KeyboardInterrupt)
        if not is_resumable_fault(exception) or self.folder is None:
            return
        diverged = isinstance(exception, TrainingDivergedError)
        if diverged and not pl_module.guard.restored:
            return  # no state with finite weights and scores to save
        path = self.folder / ("last-good.ckpt" if diverged else "interrupted.ckpt")
        path.parent.mkdir(parents=True, exist_ok=True)
        trainer.save_checkpoint(path)
        self.path = path
