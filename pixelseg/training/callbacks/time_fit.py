"""``FitToMaxTime``: at the end of the first epoch, as many epochs as ``max_time`` has room for."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Timer

from pixelseg.training.precise_bn import recalibration_seconds
from pixelseg.training.timing import time_forward_passes

__all__ = ["FitToMaxTime", "fit_epochs"]

_log = logging.getLogger("pixelseg.training")


def fit_epochs(remaining_s: float, done: int, iterations_per_epoch: int, step_s: float,
               validation_s: float = 0.0, validation_frequency: int | None = None, min_epochs: int = 1) -> int:
    """The most epochs whose remaining steps and validations take at most ``remaining_s``.

    A run of ``E`` epochs has ``E * iterations_per_epoch - done`` steps left, of ``step_s``
    seconds each, and validates (``validation_s`` each) at every multiple of
    ``validation_frequency`` after ``done`` and once more at its end (one validation when the
    end is such a multiple). Returns at least ``min_epochs``.
    """
    ipe = max(1, int(iterations_per_epoch))

    def cost(epochs: int) -> float:
        total = epochs * ipe
        validations = 0
        if validation_frequency:
            validations = total // validation_frequency - done // validation_frequency
            validations += 1 if total % validation_frequency else 0
        return (total - done) * step_s + validations * validation_s

    epochs = max(min_epochs, math.ceil((done + remaining_s / max(step_s, 1e-9)) / ipe) + 1)
    while epochs > min_epochs and cost(epochs) > remaining_s:
        epochs -= 1
    return epochs


class FitToMaxTime(pl.Callback):
    """Re-plan the length of a run once, at the end of its first epoch, to end within ``max_time``
    (``TrainingOptions(fit_to_max_time=True)``).

    The step time is the wall time between the ends of the first epoch's steps after the first
    ``skip`` (loading, augmentation, forward, backward, optimizer, logging: what a step costs
    in this run on this machine, noise included); a validation is the time of
    ``validation_batches`` validation batches scaled to the validation set, plus the
    batch-norm recalibration (``recalibration_batches`` forward passes of training batches).
    ``max_epochs`` becomes the most epochs whose steps and validations fit in the time the
    trainer's ``max_time`` has left, less ``reserve`` of it (more epochs or fewer than
    planned; at least one), and the learning-rate schedule spans the new length. The new
    length is kept in checkpoints, so a resumed run continues the same schedule. In
    multi-process runs process 0's plan is used by all.

    Args:
        skip: first steps of the epoch left out of the step time (allocations, kernel selection).
        reserve: share of the remaining time kept free (noise, checkpoints, steps that slow down:
            in a 120-minute camvid run here a step took 1.52 s in the first epochs, about 1.6 s later).
        validation_batches: validation batches timed to estimate a validation pass.
        recalibration_batches: training batches each validation's batch-norm recalibration runs.
        echo: receives one line saying what was measured and planned.
    """

    def __init__(self, skip: int = 3, reserve: float = 0.06, validation_batches: int = 2,
                 recalibration_batches: int = 0, echo: Callable[[str], None] = _log.info) -> None:
        self.skip, self.reserve, self.validation_batches = skip, reserve, validation_batches
        self.recalibration_batches, self.echo = recalibration_batches, echo
        self.max_epochs: int | None = None  # the re-planned length, once planned
        self._ends: list[float] = []

    def state_dict(self) -> dict:
        return {"max_epochs": self.max_epochs}

    def load_state_dict(self, state_dict: dict) -> None:
        self.max_epochs = state_dict.get("max_epochs")

    @staticmethod
    def _timer(trainer) -> Timer | None:
        return next((c for c in trainer.callbacks if isinstance(c, Timer)), None)

    def on_train_start(self, trainer, pl_module) -> None:
        if self.max_epochs is not None:  # resumed after the plan: the module reads the length next
            self._apply(trainer, pl_module, self.max_epochs)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if self.max_epochs is None and trainer.current_epoch == 0:
            self._ends.append(time.perf_counter())

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        timer = self._timer(trainer)
        if self.max_epochs is not None or trainer.current_epoch != 0 or timer is None or len(self._ends) < 2:
            return
        ends = self._ends[self.skip:] if len(self._ends) > self.skip + 1 else self._ends
        step_s = (ends[-1] - ends[0]) / (len(ends) - 1)
        validation_s = self._validation_seconds(trainer, pl_module)
        validation_s += recalibration_seconds(self.recalibration_batches, step_s) if validation_s else 0.0
        remaining = max(0.0, float(timer.time_remaining() or 0.0)) * (1.0 - self.reserve)
        frequency = trainer.val_check_batch if validation_s and isinstance(trainer.val_check_batch, int) else None
        epochs = fit_epochs(remaining, trainer.global_step, trainer.num_training_batches, step_s,
                            validation_s, frequency, min_epochs=1)
        epochs = int(trainer.strategy.broadcast(epochs, src=0))
        before = trainer.max_epochs
        self._apply(trainer, pl_module, epochs)
        if trainer.is_global_zero:
            self.echo(f"fit to max_time: {epochs} epochs (planned {before}): a step took {step_s:.2f} s and a "
                      f"validation {validation_s:.1f} s in the first epoch, {remaining:.0f} s left")

    def _apply(self, trainer, pl_module, epochs: int) -> None:
        self.max_epochs = int(epochs)
        trainer.fit_loop.max_epochs = self.max_epochs
        pl_module.set_length(self.max_epochs * int(trainer.num_training_batches))

    def _validation_seconds(self, trainer, pl_module) -> float:
        """Seconds of one pass over the validation loader (0 without validation data)."""
        loader = trainer.val_dataloaders  # set up at the first validation: before it, the data module's
        if loader is None and trainer.datamodule is not None and hasattr(trainer.datamodule, "val_dataloader"):
            loader = trainer.datamodule.val_dataloader()
        if isinstance(loader, (list, tuple)):
            loader = loader[0] if loader else None
        if loader is None or not trainer.limit_val_batches:
            return 0.0
        try:
            batches = len(loader)
        except TypeError:
            return 0.0
        fmt = getattr(pl_module, "memory_format", torch.contiguous_format)
        inputs = (images.to(pl_module.device).contiguous(memory_format=fmt) for images, _ in loader)
        return time_forward_passes(pl_module.network, inputs, self.validation_batches, batches)
