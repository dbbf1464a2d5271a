"""fit_to_max_time: the run's epochs re-planned after each epoch to end within max_time."""

from __future__ import annotations

import logging
import re
import time

import lightning.pytorch as pl
import pytest
import torch

from pixelseg.errors import ConfigurationError
from pixelseg.training import TrainingOptions, train_network
from pixelseg.training.callbacks.time_fit import fit_epochs

from .conftest import TinyNet

STEP_S = 0.1  # each step sleeps this long, so the step time is known whatever the machine


class SlowSteps(pl.Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        time.sleep(STEP_S)


def options(**kwargs) -> TrainingOptions:
    base = dict(mini_batch_size=4, solver="sgdm", initial_learn_rate=0.1, learn_rate_schedule="poly",
                poly_power=1.0, verbose=False, validation_frequency=1000, seed=0, max_time=4.0,
                fit_to_max_time=True, callbacks=[SlowSteps()])
    base.update(kwargs)
    return TrainingOptions(**base)


def plans(caplog) -> list[int]:
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fit to max_time")]
    return [int(re.match(r"fit to max_time: (\d+) epochs", line).group(1)) for line in lines]


def planned(caplog) -> int:
    """The length the run ended with (the last plan)."""
    found = plans(caplog)
    assert found, "no plan was made"
    return found[-1]


def test_fit_epochs_by_hand():
    # 100 s left after 10 of 10-step epochs at 1 s a step: 9 epochs more (steps 10..100)
    assert fit_epochs(100, 10, 10, 1.0) == 11
    # validations of 5 s every 25 steps and at the end: 10 epochs would take 90 + 4 x 5 = 110 s,
    # 9 epochs 80 s + (25, 50, 75 and the end at 90) 4 x 5 s = 100 s
    assert fit_epochs(100, 10, 10, 1.0, validation_s=5.0, validation_frequency=25) == 9
    assert fit_epochs(0, 10, 10, 1.0) == 1  # nothing fits: at least one epoch (the one done)


@pytest.mark.parametrize("given", [100, 2])
def test_the_run_is_refit_to_end_within_max_time(data, caplog, given):
    caplog.set_level(logging.INFO, logger="pixelseg.training")
    trained = train_network(data, TinyNet(), options(max_epochs=given))
    epochs = planned(caplog)
    # 16 images, 4 steps of about 0.1 s per epoch, 4 s: about 9 epochs, not the 100 or the 2 given
    assert (epochs < given) if given == 100 else (epochs > given)
    history = trained.history[trained.history.phase == "train"]
    # the whole new schedule ran: max_time did not cut it short
    assert history.iteration.tolist() == list(range(1, 4 * epochs + 1))
    # the poly schedule spans the new length: it ends at 1/T of the initial rate
    assert history.learn_rate.iloc[-1] == pytest.approx(0.1 * (1 - (4 * epochs - 1) / (4 * epochs)))


def test_a_resumed_run_keeps_the_refit_length(data, validation, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pixelseg.training")
    first = train_network(data, TinyNet(), options(max_epochs=100, output_dir=tmp_path / "a", keep_checkpoints=100),
                          validation_data=validation)
    epochs = planned(caplog)
    assert first.history.epoch.max() == epochs
    checkpoint = tmp_path / "a" / "checkpoints" / "epoch001-iteration000008.ckpt"
    resumed = train_network(data, TinyNet(), options(max_epochs=100, resume_from=checkpoint),
                            validation_data=validation)
    a = first.history[first.history.phase == "train"]
    b = resumed.history[resumed.history.phase == "train"]
    # the resumed epoch 3 runs the schedule the checkpoint was saved with (later epochs may be
    # re-planned from the resumed run's own steps)
    assert b.iteration.tolist()[8:12] == a.iteration.tolist()[8:12] == [9, 10, 11, 12]
    assert b.learn_rate.tolist()[8:12] == pytest.approx(a.learn_rate.tolist()[8:12])
    assert abs(b.epoch.max() - epochs) <= 2


class LoadedEpochs(pl.Callback):
    """Steps of 0.05 s, but of 0.3 s in epochs 1 and 3 (other work on the machine)."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        time.sleep(0.3 if trainer.current_epoch in (0, 2) else 0.05)


def test_a_slow_first_epoch_does_not_cut_the_run_short(data, caplog):
    caplog.set_level(logging.INFO, logger="pixelseg.training")
    trained = train_network(data, TinyNet(), options(max_epochs=2, max_time=6.0, callbacks=[LoadedEpochs()]))
    found = plans(caplog)
    # after epoch 1 (1.2 s): about 4.5 s left at 0.3 s a step, 4 epochs at most; later epochs
    # at 0.05 s a step (the median once epochs 2 and 4 outnumber 1 and 3) fit many more
    assert found[0] <= 5 < found[-1]
    history = trained.history[trained.history.phase == "train"]
    assert history.epoch.max() == found[-1]  # the last plan ran to its end, within max_time
    assert history.learn_rate.iloc[-1] < 0.1 * 0.2  # and the schedule decayed to its end


class SlowValidation(pl.Callback):
    def on_validation_start(self, trainer, pl_module):
        time.sleep(0.6)


def test_validations_are_timed_apart_from_the_steps(data, validation, caplog):
    """Validations of 0.6 s every 6 steps of 0.1 s: the step time stays 0.1 s, and the plans after
    the first validation use its measured time."""
    caplog.set_level(logging.INFO, logger="pixelseg.training")
    train_network(data, TinyNet(), options(max_epochs=3, max_time=8.0, validation_frequency=6,
                                           callbacks=[SlowSteps(), SlowValidation()]),
                  validation_data=validation)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fit to max_time")]
    steps = [float(re.search(r"a step took ([\d.]+) s", line).group(1)) for line in lines]
    validations = [float(re.search(r"a validation ([\d.]+) s", line).group(1)) for line in lines]
    assert all(0.09 <= s < 0.2 for s in steps), lines
    assert 0.6 <= validations[-1] < 1.0, lines
