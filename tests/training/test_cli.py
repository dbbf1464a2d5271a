"""``pixelseg train --config``: one YAML -> a run folder; overrides; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pixelseg.checkpoint import load_network
from pixelseg.errors import ConfigurationError
from pixelseg.workflow.train_config import apply_overrides, load_job


@pytest.fixture()
def small_camvid(tiny_camvid) -> Path:
    """4 train + 2 val pairs of the bundled CamVid sample."""
    return tiny_camvid()


def write_config(tmp_path: Path, **extra) -> Path:
    config = {
        "data": {"root": "camvid", "image_size": [24, 32], "augment": "none"},
        "class_weights": "median_frequency",
        "network": {"name": "unet", "encoder_depth": 2, "num_first_encoder_filters": 4},
        "options": {"max_epochs": 1, "mini_batch_size": 2, "verbose": False, "validation_frequency": 2},
        **extra,
    }
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.filterwarnings("ignore:class_weights")
def test_train_command_writes_a_run_folder(small_camvid, tmp_path):
    from pixelseg.cli import main

    config = write_config(tmp_path)
    out = tmp_path / "run"
    main(["train", "--config", str(config), "--output", str(out), "--set", "options.max_epochs=2",
          "--set", "options.solver=adam"])
    for name in ("config.yaml", "network.ckpt", "training_log.csv", "training_progress.png",
                 "validation_metrics.json", "checkpoints/last.ckpt"):
        assert (out / name).is_file(), name
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["options"]["max_epochs"] == 2 and resolved["options"]["solver"] == "adam"
    metrics = json.loads((out / "validation_metrics.json").read_text())
    assert 0 <= metrics["dataset_metrics"]["global_accuracy"] <= 1
    assert len(metrics["class_metrics"]["name"]) == 11
    trained = load_network(out / "network.ckpt")
    assert trained.class_set.num_classes == 11 and trained.network.config["name"] == "unet"
    assert trained.history.epoch.max() == 2
    with pytest.raises(SystemExit) as info:  # a non-empty run folder is not overwritten unasked
        main(["train", "--config", str(config), "--output", str(out)])
    assert info.value.code == 2


def test_overrides_and_config_errors(tmp_path):
    config = {"options": {"max_epochs": 3}}
    apply_overrides(config, ["options.max_epochs=5", "network.name=unet", "data.image_size=[8, 8]"])
    assert config == {"options": {"max_epochs": 5}, "network": {"name": "unet"}, "data": {"image_size": [8, 8]}}
    with pytest.raises(ConfigurationError, match="key=value"):
        apply_overrides({}, ["options.max_epochs"])
    path = write_config(tmp_path)
    with pytest.raises(ConfigurationError, match=r"train\.yaml: options:.*max_epochs"):
        load_job(path, ["options.max_epochs=0"])
    with pytest.raises(ConfigurationError, match=r"train\.yaml.*colour"):
        load_job(path, ["colour=red"])
    job = load_job(path)
    assert job.data.root == tmp_path / "camvid"  # relative to the YAML file


@pytest.mark.filterwarnings("ignore:class_weights", "ignore:skipping unreadable checkpoint")
def test_resume_a_run_folder_continues_from_its_furthest_readable_checkpoint(small_camvid, tmp_path):
    import os

    import torch

    from pixelseg.cli import main
    from pixelseg.workflow.train import latest_checkpoint

    config = write_config(tmp_path)
    out = tmp_path / "run"
    main(["train", "--config", str(config), "--output", str(out), "--set", "options.max_epochs=1"])
    # A kill while a checkpoint was being written leaves a truncated newest file: skipped.
    (out / "checkpoints" / "zz-truncated.ckpt").write_bytes(b"PK\x03\x04 cut short")
    with pytest.warns(UserWarning, match="zz-truncated"):
        chosen = latest_checkpoint(out)
    assert torch.load(chosen, weights_only=True)["global_step"] == 2  # 4 pairs, batch 2: 2 iterations
    # Ranked by training step, not file time: an older step with the newest time loses.
    older = out / "checkpoints" / "older.ckpt"
    older.write_bytes((out / "checkpoints" / "last.ckpt").read_bytes())
    checkpoint = torch.load(older, weights_only=True)
    checkpoint["global_step"] = 1
    torch.save(checkpoint, older)
    os.utime(older, (2e9, 2e9))
    with pytest.warns(UserWarning):
        assert latest_checkpoint(out / "checkpoints") != older  # the checkpoints folder itself works too
    older.unlink()
    # Resuming into another, non-empty folder is refused like any other run.
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit) as info:
        main(["train", "--config", str(config), "--resume", str(out), "--output", str(other)])
    assert info.value.code == 2 and (other / "keep.txt").read_text() == "mine"
    main(["train", "--config", str(config), "--resume", str(out / "checkpoints"), "--set", "options.max_epochs=2"])
    history = load_network(out / "network.ckpt").history
    assert history.epoch.max() == 2
    assert history[history.phase == "train"].iteration.tolist() == list(range(1, 5))  # 2 epochs x 2 iterations
    with pytest.raises(FileNotFoundError, match="no readable checkpoint"):
        latest_checkpoint(tmp_path / "empty")


def test_print_config_fills_every_default_and_feeds_back_as_the_same_config(tmp_path, capsys):
    from pixelseg.cli import main
    from pixelseg.workflow.train_config import resolved_config

    config = write_config(tmp_path, classes={"names": ["a", "b"]})
    main(["train", "--print-config", str(config), "--set", "options.loggers=[csv]"])
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["options"]["keep_checkpoints"] == 2 and printed["options"]["loggers"] == ["csv"]
    assert printed["options"]["initial_learn_rate"] == 0.01 and "output_dir" not in printed["options"]
    assert printed["data"]["root"] == str(tmp_path.resolve() / "camvid") and printed["data"]["tolerance"] == 0
    assert not (tmp_path / "runs").exists()  # nothing trained
    again = tmp_path / "elsewhere" / "printed.yaml"
    again.parent.mkdir()
    again.write_text(yaml.safe_dump(printed))
    main(["train", "--print-config", "--config", str(again)])
    assert yaml.safe_load(capsys.readouterr().out) == printed
    assert resolved_config(load_job(again)) == resolved_config(load_job(config, ["options.loggers=[csv]"]))


def test_print_config_without_a_config_prints_the_defaults(capsys):
    from pixelseg.cli import main

    main(["train", "--print-config"])
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["data"]["root"] is None and printed["network"]["name"] == "deeplabv3plus"
    assert printed["options"]["max_epochs"] == 30 and printed["options"]["loggers"] == []


def test_resume_alone_continues_with_the_config_the_run_saved(small_camvid, tmp_path, capsys):
    """``pixelseg train --resume RUN`` without ``--config``: RUN/config.yaml (with the overrides
    the run was started with) is what continues; a folder without one names it."""
    from pixelseg.cli import main

    config = write_config(tmp_path)
    out = tmp_path / "run"
    main(["train", "--config", str(config), "--output", str(out), "--set", "options.max_epochs=2"])
    checkpoints = sorted((out / "checkpoints").glob("*.ckpt"))
    for path in checkpoints:  # the run stopped after its first epoch: only that checkpoint is left
        if not path.name.startswith("epoch000"):
            path.unlink()
    (out / "network.ckpt").unlink()
    main(["train", "--resume", str(out)])
    history = load_network(out / "network.ckpt").history
    assert history.epoch.max() == 2  # max_epochs=2 came from the saved config, not the YAML's 1
    assert history[history.phase == "train"].iteration.tolist() == list(range(1, 5))
    bare = tmp_path / "bare"
    (bare / "checkpoints").mkdir(parents=True)
    with pytest.raises(SystemExit) as info:
        main(["train", "--resume", str(bare / "checkpoints")])
    assert info.value.code == 2
    assert "no config.yaml" in capsys.readouterr().err
