"""The progress bar (messages go through the ``pixelseg`` logger, whose console handler
writes above the bar: :mod:`pixelseg.utils.log`)."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.callbacks import TQDMProgressBar

__all__ = ["ProgressBar"]


class ProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar, showing the history recorder's latest values (no per-step sync).

    Args:
        latest: a dict that the :class:`~pixelseg.training.callbacks.HistoryRecorder` keeps
            up to date (``loss``, ``val_loss``, ``val_miou`` as formatted strings).
        refresh_rate: refresh every this many iterations.
    """

    def __init__(self, latest: dict[str, str], refresh_rate: int = 1) -> None:
        super().__init__(refresh_rate=refresh_rate, leave=False)
        self.latest = latest

    def get_metrics(self, trainer, pl_module) -> dict[str, Any]:
        return dict(self.latest)

    # No validation bar: the history recorder prints one line per validation instead.
    def on_validation_start(self, trainer, pl_module) -> None:
        pass

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        pass

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        pass

    def on_validation_end(self, trainer, pl_module) -> None:
        if self._train_progress_bar is not None and trainer.state.fn == "fit":
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))
