"""Lightning callbacks: the training history (log, plot, patience, best network) and progress bar.

:class:`TrainingRecorder` turns the per-iteration values that :class:`SegmentationTask`
keeps on the device into history rows (one host-device transfer every
``verbose_frequency`` iterations), adds a row per validation, applies
``validation_patience``, keeps the weights that ``output_network`` asks for, writes
``training_log.csv``, ``training_progress.png`` and (when the ``tensorboard`` package is
installed) TensorBoard scalars under ``output_dir/tensorboard``, and, on Ctrl-C or a NaN
loss, a checkpoint. Its state is saved in every checkpoint, so a resumed run keeps its history.
"""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import TQDMProgressBar

from pixelseg.checkpoint import HISTORY_COLUMNS
from pixelseg.training.faults import TrainingDivergedError
from pixelseg.training.metrics import confusion_metrics

__all__ = ["TrainingRecorder", "ProgressBar", "HISTORY_COLUMNS", "LOG_NAME", "PLOT_NAME"]

LOG_NAME = "training_log.csv"
PLOT_NAME = "training_progress.png"


class TrainingRecorder(pl.Callback):
    """History, log file, progress plot, early stopping, best-network selection, fault checkpoints."""

    def __init__(self, options) -> None:
        self.options = options
        self.rows: list[dict[str, Any]] = []
        self.best_loss = math.inf
        self.best_metric = -math.inf
        self.bad_validations = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_iteration: int | None = None
        self.stopped_early = False
        self.fault_checkpoint: Path | None = None
        self.interrupted = False
        self.total_iterations: int | None = None
        self.latest: dict[str, str] = {}
        self._started = time.perf_counter()
        self._plotted_rows = 0
        self._task = None
        self._tensorboard = None  # SummaryWriter when the tensorboard package is installed
        self._tensorboard_rows = 0

    # ---- state saved in checkpoints ------------------------------------------------------------
    def setup(self, trainer, pl_module, stage: str) -> None:
        self._task = pl_module

    def state_dict(self) -> dict[str, Any]:
        # Lightning takes this state before calling on_save_checkpoint: flush here.
        if self._task is not None:
            self.flush(self._task)
        return {
            "rows": [dict(r) for r in self.rows],
            "best_loss": self.best_loss,
            "best_metric": self.best_metric,
            "bad_validations": self.bad_validations,
            "best_state": self.best_state,
            "best_iteration": self.best_iteration,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows = [dict(r) for r in state.get("rows", [])]
        self.best_loss = state.get("best_loss", math.inf)
        self.best_metric = state.get("best_metric", -math.inf)
        self.bad_validations = state.get("bad_validations", 0)
        self.best_state = state.get("best_state")
        self.best_iteration = state.get("best_iteration")

    # ---- history ----------------------------------------------------------------------------------
    @property
    def history(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=HISTORY_COLUMNS)
        return frame.astype({"iteration": "int64", "epoch": "int64"}) if len(frame) else frame

    def flush(self, pl_module) -> None:
        """Move the pending per-iteration values to the host (one transfer) and append rows."""
        pending = getattr(pl_module, "pending", None)
        if not pending:
            return
        iterations, epochs, rates, losses, confusions = zip(*pending)
        pending.clear()
        losses = torch.stack(losses).float().cpu().numpy()
        k = int(round(math.sqrt(confusions[0].numel())))
        matrices = torch.stack(confusions).cpu().numpy().reshape(-1, k, k)
        accuracy, mean_iou = confusion_metrics(matrices)
        for i, it in enumerate(iterations):
            self.rows.append({"iteration": it, "epoch": epochs[i], "phase": "train", "loss": float(losses[i]),
                              "global_accuracy": float(accuracy[i]), "mean_iou": float(mean_iou[i]),
                              "learn_rate": float(rates[i])})
        self.latest.update(loss=f"{losses[-1]:.4g}")

    def on_train_start(self, trainer, pl_module) -> None:
        self._started = time.perf_counter()
        self.total_iterations = int(trainer.num_training_batches) * int(trainer.max_epochs)
        self._tensorboard_rows = len(self.rows)
        if self.options.output_dir is not None and trainer.is_global_zero and importlib.util.find_spec("tensorboard"):
            from torch.utils.tensorboard import SummaryWriter

            self._tensorboard = SummaryWriter(log_dir=str(Path(self.options.output_dir) / "tensorboard"))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if len(pl_module.pending) >= self.options.verbose_frequency:
            self.flush(pl_module)
        if self.total_iterations is not None and trainer.global_step >= self.total_iterations:
            # The last iteration: asking to stop makes Lightning validate once more (MATLAB
            # validates at the end of training) and then end the run.
            trainer.should_stop = True

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.flush(pl_module)
        self._write_log(trainer)

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or trainer.state.fn != "fit":
            return
        self.flush(pl_module)
        result = pl_module.validation_result()
        iteration = int(trainer.global_step)
        if self.rows and self.rows[-1]["phase"] == "validation" and self.rows[-1]["iteration"] == iteration:
            return  # already validated at this iteration (e.g. resumed right after a validation)
        # The learning rate of the last training iteration (the scheduler has already stepped).
        rates = [r["learn_rate"] for r in self.rows if r["phase"] == "train"]
        rate = rates[-1] if rates else float("nan")
        self.rows.append({"iteration": iteration, "epoch": int(trainer.current_epoch) + 1, "phase": "validation",
                          **result, "learn_rate": float(rate)})
        self._select_and_stop(trainer, pl_module, result, iteration)
        self.latest.update(val_loss=f"{result['loss']:.4g}", val_miou=f"{result['mean_iou']:.3f}")
        if self.options.verbose and trainer.is_global_zero:
            self._print(trainer, self._summary(trainer, result))
        self._write_log(trainer, plot=True)

    def _select_and_stop(self, trainer, pl_module, result, iteration: int) -> None:
        options = self.options
        improved_loss = result["loss"] < self.best_loss
        if improved_loss:
            self.best_loss = result["loss"]
            self.bad_validations = 0
        else:
            self.bad_validations += 1
        metric = result[options.objective_metric]
        improved_metric = not math.isnan(metric) and metric > self.best_metric
        if improved_metric:
            self.best_metric = metric
        keep = (options.output_network == "best-validation-loss" and improved_loss) or (
            options.output_network == "best-validation-metric" and improved_metric)
        if keep:
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in pl_module.network.state_dict().items()}
            self.best_iteration = iteration
        patience = options.validation_patience
        if patience is not None and self.bad_validations >= patience and not trainer.should_stop:
            self.stopped_early = True
            trainer.should_stop = True
            if options.verbose and trainer.is_global_zero:
                self._print(trainer, f"validation loss has not improved on {self.best_loss:.4g} for {patience} "
                                     f"validations: stopping at iteration {iteration} (validation_patience={patience})")

    def on_train_end(self, trainer, pl_module) -> None:
        self.flush(pl_module)
        self._write_log(trainer, plot=True)
        self._close_tensorboard()

    def teardown(self, trainer, pl_module, stage: str) -> None:
        self._close_tensorboard()

    def _close_tensorboard(self) -> None:
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None

    # ---- faults -------------------------------------------------------------------------------------
    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        diverged = isinstance(exception, TrainingDivergedError)
        self.interrupted = isinstance(exception, KeyboardInterrupt)
        if not (diverged or self.interrupted):
            return
        self.flush(pl_module)
        folder = self.options.checkpoint_dir
        if folder is not None:
            path = Path(folder) / ("last-good.ckpt" if diverged else "interrupted.ckpt")
            path.parent.mkdir(parents=True, exist_ok=True)
            trainer.save_checkpoint(path)
            self.fault_checkpoint = path
        if diverged:
            exception.checkpoint = self.fault_checkpoint
        self._write_log(trainer, plot=True)

    # ---- output -------------------------------------------------------------------------------------
    def _write_log(self, trainer, plot: bool = False) -> None:
        out = self.options.output_dir
        if out is None or not trainer.is_global_zero or not self.rows:
            return
        from pixelseg.utils.atomic import atomic_write

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        history = self.history
        with atomic_write(out / LOG_NAME, overwrite=True) as tmp:
            history.to_csv(tmp, index=False)
        if self._tensorboard is not None:
            for row in self.rows[self._tensorboard_rows:]:
                for column in ("loss", "global_accuracy", "mean_iou", "learn_rate"):
                    self._tensorboard.add_scalar(f"{row['phase']}/{column}", row[column], row["iteration"])
            self._tensorboard_rows = len(self.rows)
            self._tensorboard.flush()
        if plot and self.options.plots == "training-progress" and len(self.rows) != self._plotted_rows:
            self._plotted_rows = len(self.rows)
            from pixelseg.training.plots import plot_training_progress

            plot_training_progress(history, out / PLOT_NAME, overwrite=True)

    def _summary(self, trainer, result: dict[str, float]) -> str:
        train = [r for r in self.rows if r["phase"] == "train"][-self.options.verbose_frequency:]
        part = ""
        if train:
            part = (f"train loss {np.mean([r['loss'] for r in train]):.4f} "
                    f"acc {np.nanmean([r['global_accuracy'] for r in train]):.3f} "
                    f"(mean of the last {len(train)} iterations) | ")
        return (f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs} iteration {trainer.global_step}: {part}"
                f"validation loss {result['loss']:.4f} acc {result['global_accuracy']:.3f} "
                f"mIoU {result['mean_iou']:.3f} ({time.perf_counter() - self._started:.0f} s)")

    @staticmethod
    def _print(trainer, text: str) -> None:
        bar = trainer.progress_bar_callback
        if bar is not None and hasattr(bar, "print"):
            bar.print(text)
        else:
            print(text, flush=True)


class ProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar, showing the recorder's latest flushed values (no per-step sync)."""

    def __init__(self, recorder: TrainingRecorder, refresh_rate: int = 1) -> None:
        super().__init__(refresh_rate=refresh_rate, leave=False)
        self.recorder = recorder

    def get_metrics(self, trainer, pl_module) -> dict[str, Any]:
        return dict(self.recorder.latest)

    # No validation bar: the recorder prints one line per validation instead.
    def on_validation_start(self, trainer, pl_module) -> None:
        pass

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        pass

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        pass

    def on_validation_end(self, trainer, pl_module) -> None:
        if self._train_progress_bar is not None and trainer.state.fn == "fit":
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))

