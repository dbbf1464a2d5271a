"""The checkpoint layer: the history as plain data, old-format files, no Lightning to read one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch

from pixelseg.checkpoint import (
    HISTORY_COLUMNS,
    TrainedNetwork,
    checkpoint_history,
    history_data,
    legacy_recorder_state,
    load_network,
)
from pixelseg.data import ClassSet
from tests.history import assert_same_history

from .fixtures.old_checkpoint_data import CLASS_NAMES, fixed_input

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD = FIXTURES / "old_run_checkpoint.ckpt"
HISTORY = pd.DataFrame({"iteration": [1, 2, 2], "epoch": [1, 1, 1], "phase": ["train", "train", "validation"],
                        "loss": [1.0, 0.8, 0.9], "global_accuracy": [0.5, 0.6, 0.55],
                        "mean_iou": [0.2, 0.3, 0.25], "learn_rate": [0.1, 0.1, 0.1],
                        "time_elapsed": [1.5, 3.0, 3.25]})


def expected() -> dict:
    return torch.load(FIXTURES / "old_run_expected.pt", weights_only=True)


def tiny_unet():
    from pixelseg.models import unet

    torch.manual_seed(0)
    return unet(num_classes=3, encoder_depth=1, num_first_encoder_filters=4)


def test_old_format_run_checkpoint_loads_with_its_history_and_logits():
    loaded = load_network(OLD)
    assert loaded.config["name"] == "unet" and loaded.num_classes == 3 and not loaded.network.training
    assert loaded.class_set.names == CLASS_NAMES
    assert loaded.options.solver == "sgdm" and loaded.options.max_epochs == 3
    assert loaded.options.validation_patience == 3 and loaded.options.output_network == "best-validation-loss"
    assert loaded.input_size == (16, 16)
    history = pd.DataFrame(expected()["checkpoint_history"])
    assert loaded.history.iteration.tolist() == [1, 2, 2, 3, 4, 4]
    assert loaded.history.time_elapsed.isna().all()  # written before the column existed
    assert_same_history(loaded.history, history, check_dtype=False)
    torch.testing.assert_close(loaded(fixed_input()), expected()["checkpoint_logits"], rtol=1e-5, atol=1e-6)


def test_the_legacy_layout_is_read_in_one_place():
    checkpoint = torch.load(OLD, weights_only=True)
    assert "history" not in checkpoint["pixelseg"]  # the old layout
    state = legacy_recorder_state(checkpoint)
    assert state["bad_validations"] == 1 and state["best_iteration"] == 2 and len(state["rows"]) == 6
    assert list(checkpoint_history(checkpoint).columns) == HISTORY_COLUMNS
    assert legacy_recorder_state({"pixelseg": {}}) is None
    assert legacy_recorder_state({"callbacks": {"HistoryRecorder": {"rows": []}}}) is None


def test_history_is_plain_data_under_the_checkpoints_own_key(tmp_path):
    data = history_data(HISTORY)
    assert data == HISTORY.to_dict(orient="list") and list(data) == HISTORY_COLUMNS
    assert all(type(v) in (int, float, str) for values in data.values() for v in values)
    assert history_data([row for row in HISTORY.to_dict(orient="records")]) == data
    path = TrainedNetwork(tiny_unet(), history=HISTORY).save(tmp_path / "net.pt")
    saved = torch.load(path, weights_only=True)
    assert saved["pixelseg"]["history"] == data and "callbacks" not in saved
    pd.testing.assert_frame_equal(load_network(path).history, HISTORY)


def test_an_empty_history_loads_as_an_empty_frame_with_the_columns(tmp_path):
    path = TrainedNetwork(tiny_unet()).save(tmp_path / "net.pt")
    assert torch.load(path, weights_only=True)["pixelseg"]["history"] == {c: [] for c in HISTORY_COLUMNS}
    history = load_network(path).history
    assert len(history) == 0 and list(history.columns) == HISTORY_COLUMNS
    # TrainedNetwork.save of earlier versions wrote None for an empty history
    assert list(checkpoint_history({"pixelseg": {"history": None}}).columns) == HISTORY_COLUMNS


def test_reading_a_checkpoint_imports_no_lightning(tmp_path):
    from pixelseg.training.options import TrainingOptions

    path = TrainedNetwork(tiny_unet(), class_set=ClassSet(CLASS_NAMES), history=HISTORY,
                          options=TrainingOptions(max_epochs=1)).save(tmp_path / "net.pt")
    code = (
        "import sys\n"
        "import pixelseg.data, pixelseg.evaluation\n"
        "from pixelseg.checkpoint import load_network\n"
        f"for path in {[str(path), str(OLD)]!r}:\n"
        "    trained = load_network(path)\n"
        "    assert trained.options is not None and trained.class_set is not None and len(trained.history)\n"
        "print('LIGHTNING', sorted(m for m in ('lightning', 'pytorch_lightning') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "LIGHTNING []" in result.stdout


def test_training_options_and_errors_import_without_lightning():
    code = ("import sys\nfrom pixelseg.training import TrainingOptions, TrainingDivergedError, build_loss, load_network\n"
            "print('lightning' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
