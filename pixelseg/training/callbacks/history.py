"""``HistoryRecorder``: the training history, its files, and the history in every checkpoint."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pandas as pd

from pixelseg.checkpoint import HISTORY_COLUMNS, checkpoint_history, history_data
from pixelseg.training.faults import is_resumable_fault

_log = logging.getLogger(__name__)

__all__ = ["HistoryRecorder", "LOG_NAME", "PLOT_NAME", "LOGGED_COLUMNS"]

LOG_NAME = "training_log.csv"
PLOT_NAME = "training_progress.png"
#: The columns of each history row sent to the trainer's loggers, as ``<phase>/<column>``.
LOGGED_COLUMNS = ("loss", "global_accuracy", "mean_iou", "learn_rate")


class HistoryRecorder(pl.Callback):
    """The history (``TrainedNetwork.history``), ``training_log.csv``, the progress plot and the loggers.

    Takes the per-iteration values of :class:`~pixelseg.training.module.SegmentationTask`
    with ``drain_iterations()`` every ``verbose_frequency`` iterations (one host-device
    transfer each time), at the end of each epoch and before each checkpoint, and adds a row
    per validation. Rewrites ``output_dir/training_log.csv`` at each epoch end and
    validation, the plot at each validation and at the end, and sends the new rows to the
    trainer's loggers (``TrainingOptions.loggers``) as ``<phase>/<column>`` at the row's
    iteration for each of ``LOGGED_COLUMNS``. Every
    checkpoint gets the history under ``checkpoint["pixelseg"]["history"]``, and a resumed
    run starts from the history of its checkpoint (of the legacy layout too).

    Args:
        output_dir: folder of the files, or None (nothing is written).
        plot: write ``training_progress.png`` (``plots="training-progress"``).
        verbose: log one summary line per validation (logger ``pixelseg.training``, level INFO).
        verbose_frequency: iterations between transfers of the pending values.

    Attributes:
        rows: the history rows (dicts with the columns ``HISTORY_COLUMNS``).
        latest: formatted latest values for the progress bar (``loss``, ``val_loss``, ``val_miou``).
    """

    def __init__(self, output_dir: str | Path | None = None, plot: bool = False, verbose: bool = False,
                 verbose_frequency: int = 50) -> None:
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.plot = plot
        self.verbose = verbose
        self.verbose_frequency = verbose_frequency
        self.rows: list[dict[str, Any]] = []
        self.latest: dict[str, str] = {}
        self._started = time.perf_counter()
        self._offset = 0.0  # seconds of training before this process started (a resumed run)
        self._step_ends: dict[int, float] = {}  # iteration -> perf_counter at its end, until flushed
        self._plotted_rows = 0
        self._logged_rows = 0  # rows already sent to the trainer's loggers

    @property
    def history(self) -> pd.DataFrame:
        """The rows as a DataFrame (columns ``HISTORY_COLUMNS``; iteration and epoch int64)."""
        frame = pd.DataFrame(self.rows, columns=HISTORY_COLUMNS)
        return frame.astype({"iteration": "int64", "epoch": "int64"}) if len(frame) else frame

    def flush(self, pl_module) -> None:
        """Append the rows of the iterations the task still holds (one host-device transfer)."""
        rows = pl_module.drain_iterations()
        for row in rows:
            row["time_elapsed"] = self._elapsed(self._step_ends.pop(int(row["iteration"]), None))
        if rows:
            self.rows.extend(rows)
            self.latest.update(loss=f"{rows[-1]['loss']:.4g}")

    # ---- checkpoints --------------------------------------------------------------------------
    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        self.flush(pl_module)
        checkpoint.setdefault("pixelseg", {})["history"] = history_data(self.rows)

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        self.rows = checkpoint_history(checkpoint).to_dict(orient="records")

    # ---- training -----------------------------------------------------------------------------
    def _elapsed(self, at: float | None = None) -> float:
        """Seconds of training at ``at`` (a ``time.perf_counter()`` value; None: now)."""
        return self._offset + ((time.perf_counter() if at is None else at) - self._started)

    def on_train_start(self, trainer, pl_module) -> None:
        self._started = time.perf_counter()
        times = [float(r.get("time_elapsed", math.nan)) for r in self.rows]
        known = [t for t in times if not math.isnan(t)]
        self._offset = max(known) if known else 0.0
        self._logged_rows = len(self.rows)  # a resumed run's loggers already hold the earlier rows

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._step_ends[int(trainer.global_step)] = time.perf_counter()
        if pl_module.pending_iterations >= self.verbose_frequency:
            self.flush(pl_module)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.flush(pl_module)
        self._write_log(trainer)

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or trainer.state.fn != "fit":
            return
        self.flush(pl_module)
        result = pl_module.validation_result()  # every process calls it (it sums over processes)
        iteration = int(trainer.global_step)
        if self.rows and self.rows[-1]["phase"] == "validation" and self.rows[-1]["iteration"] == iteration:
            return  # already validated at this iteration (e.g. resumed right after a validation)
        # The learning rate of the last training iteration (the scheduler has already stepped).
        rates = [r["learn_rate"] for r in self.rows if r["phase"] == "train"]
        rate = rates[-1] if rates else float("nan")
        self.rows.append({"iteration": iteration, "epoch": int(trainer.current_epoch) + 1, "phase": "validation",
                          **result, "learn_rate": float(rate), "time_elapsed": self._elapsed()})
        self.latest.update(val_loss=f"{result['loss']:.4g}", val_miou=f"{result['mean_iou']:.3f}")
        if self.verbose and trainer.is_global_zero:
            _log.info(self._summary(trainer, result))
        self._write_log(trainer, plot=True)

    def on_train_end(self, trainer, pl_module) -> None:
        self.flush(pl_module)
        self._write_log(trainer, plot=True)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if is_resumable_fault(exception):
            self.flush(pl_module)
            self._write_log(trainer, plot=True)

    # ---- output -------------------------------------------------------------------------------
    def _send_to_loggers(self, trainer) -> None:
        for row in self.rows[self._logged_rows:]:
            metrics = {f"{row['phase']}/{column}": float(row[column]) for column in LOGGED_COLUMNS}
            for logger in trainer.loggers:
                logger.log_metrics(metrics, step=int(row["iteration"]))
        self._logged_rows = len(self.rows)
        for logger in trainer.loggers:
            logger.save()

    def _write_log(self, trainer, plot: bool = False) -> None:
        if not trainer.is_global_zero or not self.rows:
            return
        self._send_to_loggers(trainer)
        out = self.output_dir
        if out is None:
            return
        from pixelseg.utils.atomic import atomic_write

        out.mkdir(parents=True, exist_ok=True)
        history = self.history
        with atomic_write(out / LOG_NAME, overwrite=True) as tmp:
            history.to_csv(tmp, index=False)
        if plot and self.plot and len(self.rows) != self._plotted_rows:
            self._plotted_rows = len(self.rows)
            from pixelseg.training.plots import plot_training_progress

            plot_training_progress(history, out / PLOT_NAME, overwrite=True)

    def _summary(self, trainer, result: dict[str, float]) -> str:
        train = [r for r in self.rows if r["phase"] == "train"][-self.verbose_frequency:]
        part = ""
        if train:
            part = (f"train loss {np.mean([r['loss'] for r in train]):.4f} "
                    f"acc {np.nanmean([r['global_accuracy'] for r in train]):.3f} "
                    f"(mean of the last {len(train)} iterations) | ")
        return (f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs} iteration {trainer.global_step}: {part}"
                f"validation loss {result['loss']:.4f} acc {result['global_accuracy']:.3f} "
                f"mIoU {result['mean_iou']:.3f} ({self._elapsed():.0f} s)")
