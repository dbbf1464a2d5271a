"""``FitToMaxTime``: at the end of each epoch, as many epochs as ``max_time`` has room for."""

from __future__ import annotations

import logging
import math
import statistics
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
    """Re-plan the length of a run at the end of each epoch to end within ``max_time``
    (``TrainingOptions(fit_to_max_time=True)``).

    An epoch's step time is the mean wall time between the ends of its steps (loading,
    augmentation, forward, backward, optimizer, logging: what a step costs in this run on this
    machine), leaving out the first ``skip`` steps of the run's first epoch and the time of
    validations that ran between steps. The plan uses the median of
    the last ``window`` epochs' step times, so a burst of load on the machine for an epoch or
    two (or a slow first epoch: cold caches, kernel selection) does not shorten the run while
    a lasting change does. A validation is the time of ``validation_batches`` validation
    batches scaled to the validation set, plus the batch-norm recalibration
    (``recalibration_batches`` forward passes of training batches), timed once after the first
    epoch, and the median of the validations of this run once one has run (batch-norm
    recalibration included: this callback runs before PreciseBatchNorm).
    ``max_epochs`` becomes the most epochs whose steps and validations fit in the time the
    trainer's ``max_time`` has left, less ``reserve`` of it (more epochs or fewer than
    planned; at least the epochs done), and the learning-rate schedule spans the new length.
    Once ``final`` of the planned steps are done the length is kept (the schedule's end is
    not moved; ``max_time`` still stops a run that slows down there). The length is kept in
    checkpoints, so a resumed run continues the same schedule. In multi-process runs process
    0's plan is used by all.

    Args:
        skip: first steps of the run's first epoch left out of its step time (allocations,
            kernel selection).
        reserve: share of the remaining time kept free (noise, checkpoints, steps that slow down:
            in a 120-minute camvid run here a step took 1.52 s in the first epochs, about 1.6 s later).
        validation_batches: validation batches timed to estimate a validation pass.
        recalibration_batches: training batches each validation's batch-norm recalibration runs.
        window: epochs whose median step time is planned with (in a 90-minute camvid run here,
            a first epoch at 2.3 s a step, two loaded epochs at 3.2 s, the others at 1.6 s).
        final: share of the planned steps after which the length is no longer changed.
        echo: receives one line each time the length is planned or changed.
    """

    def __init__(self, skip: int = 3, reserve: float = 0.06, validation_batches: int = 2,
                 recalibration_batches: int = 0, window: int = 5, final: float = 0.9,
                 echo: Callable[[str], None] = _log.info) -> None:
        self.skip, self.reserve, self.validation_batches = skip, reserve, validation_batches
        self.recalibration_batches, self.window, self.final, self.echo = recalibration_batches, window, final, echo
        self.max_epochs: int | None = None  # the planned length, once planned
        self._ends: list[float] = []
        self._epoch_steps: list[float] = []  # step seconds of each epoch of this fit
        self._validation_s: float | None = None  # the timed estimate
        self._validations: list[float] = []  # seconds of each validation of this fit
        self._validation_start: float | None = None
        self._validating = 0.0  # seconds spent in validations so far

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

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._ends = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self._ends.append(time.perf_counter() - self._validating)  # a clock that stops in validations

    def on_validation_start(self, trainer, pl_module) -> None:
        self._validation_start = time.perf_counter()

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or self._validation_start is None:
            return
        seconds = time.perf_counter() - self._validation_start
        self._validating += seconds
        self._validations.append(seconds)
        self._validation_start = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        timer = self._timer(trainer)
        step = self._epoch_step_seconds()
        if timer is None or step is None:
            return
        self._epoch_steps.append(step)
        total = int(trainer.num_training_batches) * int(self.max_epochs or trainer.max_epochs)
        if self.max_epochs is not None and trainer.global_step >= self.final * total:
            return
        step_s = statistics.median(self._epoch_steps[-self.window:])
        if self._validation_s is None:
            validation_s = self._validation_seconds(trainer, pl_module)
            validation_s += recalibration_seconds(self.recalibration_batches, step_s) if validation_s else 0.0
            self._validation_s = validation_s
        validation_s = statistics.median(self._validations) if self._validations else self._validation_s
        remaining = max(0.0, float(timer.time_remaining() or 0.0)) * (1.0 - self.reserve)
        frequency = trainer.val_check_batch if validation_s and isinstance(trainer.val_check_batch, int) else None
        epochs = fit_epochs(remaining, trainer.global_step, trainer.num_training_batches, step_s,
                            validation_s, frequency, min_epochs=trainer.current_epoch + 1)
        epochs = int(trainer.strategy.broadcast(epochs, src=0))
        before, first = trainer.max_epochs, self.max_epochs is None
        if not first and epochs == before:
            return
        self._apply(trainer, pl_module, epochs)
        if trainer.is_global_zero:
            measured = ("in the first epoch" if len(self._epoch_steps) == 1
                        else f"(median of the last {min(self.window, len(self._epoch_steps))} epochs)")
            self.echo(f"fit to max_time: {epochs} epochs ({'planned' if first else 'were'} {before}) after epoch "
                      f"{trainer.current_epoch + 1}: a step took {step_s:.2f} s {measured} and a validation "
                      f"{validation_s:.1f} s, {remaining:.0f} s left")

    def _epoch_step_seconds(self) -> float | None:
        """Mean seconds between this epoch's step ends, validations left out, without the run's
        first ``skip`` steps (None with fewer than two steps)."""
        ends = self._ends
        if not self._epoch_steps and len(ends) > self.skip + 1:
            ends = ends[self.skip:]
        if len(ends) < 2:
            return None
        return (ends[-1] - ends[0]) / (len(ends) - 1)

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
