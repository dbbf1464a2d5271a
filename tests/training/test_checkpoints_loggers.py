"""keep_checkpoints (pruning, best.ckpt, last.ckpt, resume from what is kept), the experiment
loggers and extra callbacks of TrainingOptions, and training messages on the "pixelseg" logger."""

from __future__ import annotations

import logging
import sys

import lightning.pytorch as pl
import pandas as pd
import pytest
import torch

from pixelseg.errors import ConfigurationError
from pixelseg.training import TrainingOptions, load_network, train_network
from pixelseg.utils.extras import MissingExtraError

from .conftest import TinyNet
from .test_train import fast


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_keep_checkpoints_prunes_and_a_second_run_resumes_from_what_is_kept(data, validation, tmp_path):
    options = dict(keep_checkpoints=1, output_dir=tmp_path, output_network="best-validation-loss")
    first = train_network(data, TinyNet(), fast(max_epochs=3, **options), validation_data=validation)
    folder = tmp_path / "checkpoints"
    assert names(folder) == ["best.ckpt", "epoch002-iteration000012.ckpt", "last.ckpt"]
    last = folder / "last.ckpt"
    assert last.resolve() == (folder / "epoch002-iteration000012.ckpt").resolve() or not last.is_symlink()
    assert first.checkpoint == last
    val = first.history[first.history.phase == "validation"]
    best = torch.load(folder / "best.ckpt", map_location="cpu", weights_only=False)
    assert best["global_step"] == val.iteration[val.loss.idxmin()]  # the state of the best validation

    torch.manual_seed(1)
    second = train_network(data, TinyNet(), fast(max_epochs=4, resume_from=last, **options), validation_data=validation)
    assert names(folder) == ["best.ckpt", "epoch003-iteration000016.ckpt", "last.ckpt"]
    assert second.history.epoch.max() == 4 and second.history.iteration.max() == 16
    pd.testing.assert_frame_equal(second.history[second.history.iteration <= 12].reset_index(drop=True),
                                  first.history.reset_index(drop=True))
    assert load_network(folder / "last.ckpt").history.iteration.max() == 16


def test_keep_checkpoints_must_be_at_least_one():
    with pytest.raises(ConfigurationError, match="keep_checkpoints=0"):
        TrainingOptions(keep_checkpoints=0)


def test_csv_logger_writes_the_history_rows_and_tensorboard_is_opt_in(data, validation, tmp_path):
    trained = train_network(data, TinyNet(), fast(output_dir=tmp_path, loggers=["csv"]), validation_data=validation)
    logged = pd.read_csv(tmp_path / "csv" / "metrics.csv")
    train = trained.history[trained.history.phase == "train"]
    rows = logged.dropna(subset=["train/loss"])
    assert rows.step.tolist() == train.iteration.tolist()
    assert rows["train/loss"].tolist() == pytest.approx(train.loss.tolist())
    assert logged["validation/mean_iou"].notna().sum() == (trained.history.phase == "validation").sum()
    assert not (tmp_path / "tensorboard").exists()  # installed or not, only when asked for


def test_tensorboard_logger_writes_an_events_file(data, tmp_path):
    pytest.importorskip("tensorboard")
    train_network(data, TinyNet(), fast(max_epochs=1, output_dir=tmp_path, loggers=["tensorboard"]))
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_a_missing_extra_is_one_sentence(data, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(MissingExtraError, match=r'^the MLflow logger \(loggers: \[mlflow\]\) needs the "mlflow" '
                                                r'extra \(mlflow is not installed\): pip install "pixelseg\[mlflow\]"$'):
        train_network(data, TinyNet(), fast(max_epochs=1, output_dir=tmp_path, loggers=["mlflow"]))


def test_unknown_logger_names_the_nearest_valid_one():
    with pytest.raises(ConfigurationError, match=r"unknown logger 'tensorbord' \(did you mean 'tensorboard'\?\)"):
        TrainingOptions(loggers=["tensorbord"], output_dir="run")
    with pytest.raises(ConfigurationError, match="loggers.*need.*output_dir|output_dir"):
        TrainingOptions(loggers=["csv"])
    with pytest.raises(ConfigurationError, match="Lightning Callback objects, got str"):
        TrainingOptions(callbacks=["early-stopping"])


class EpochCounter(pl.Callback):
    def __init__(self) -> None:
        self.epochs = 0

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.epochs += 1


class ListLogger(pl.loggers.Logger):
    """A Lightning Logger keeping what it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, dict]] = []

    name, version = "list", 0

    def log_hyperparams(self, params, *args, **kwargs) -> None:
        pass

    def log_metrics(self, metrics, step=None) -> None:
        self.rows.append((step, dict(metrics)))


def test_extra_callbacks_and_logger_objects_are_used_and_not_written(data, tmp_path):
    counter, logger = EpochCounter(), ListLogger()
    options = fast(max_epochs=3, callbacks=[counter], loggers=[logger, "csv"], output_dir=tmp_path)
    train_network(data, TinyNet(), options)
    assert counter.epochs == 3
    assert [step for step, _ in logger.rows] == list(range(1, 13)) and "train/loss" in logger.rows[0][1]
    saved = options.to_dict()
    assert saved["loggers"] == ["csv"] and saved["callbacks"] == []
    assert TrainingOptions(**saved).loggers == ["csv"]


def test_training_messages_go_through_the_pixelseg_logger(data, validation, caplog):
    caplog.set_level(logging.INFO, logger="pixelseg")
    train_network(data, TinyNet(), fast(max_epochs=3, verbose=True, validation_patience=1, initial_learn_rate=1e-12,
                                        validation_frequency=2), validation_data=validation)
    records = [r for r in caplog.records if r.name.startswith("pixelseg.")]
    assert any("validation loss" in r.getMessage() and "mIoU" in r.getMessage() for r in records)
    assert any("stopping at iteration" in r.getMessage() for r in records)
    assert all(r.levelno == logging.INFO for r in records)
