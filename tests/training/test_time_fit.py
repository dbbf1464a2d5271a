"""fit_to_max_time: the run's epochs re-planned after the first epoch to end within max_time."""

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


def planned(caplog) -> int:
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fit to max_time")]
    assert len(lines) == 1, lines
    return int(re.match(r"fit to max_time: (\d+) epochs", lines[0]).group(1))


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
    assert b.iteration.tolist() == a.iteration.tolist()
    assert b.learn_rate.tolist() == pytest.approx(a.learn_rate.tolist())


def test_fit_to_max_time_needs_max_time():
    with pytest.raises(ConfigurationError, match="max_time"):
        TrainingOptions(fit_to_max_time=True)


def test_without_the_option_max_epochs_is_kept(data):
    trained = train_network(data, TinyNet(), options(max_epochs=2, fit_to_max_time=False, max_time=None,
                                                     callbacks=[]))
    assert trained.history.epoch.max() == 2
    assert torch.isfinite(torch.tensor(trained.history.loss.tolist())).all()
