"""The train job from Python: its YAML schema, data, output folder and resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pixelseg.checkpoint import load_network
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.workflow.train import open_data, run_train_config, run_train_job
from pixelseg.workflow.train_config import load_job


def write_config(folder: Path, **data) -> Path:
    config = {
        "data": {"root": "camvid", "image_size": [24, 32], "augment": "none", **data},
        "network": {"name": "unet", "encoder_depth": 2, "num_first_encoder_filters": 4},
        "options": {"max_epochs": 1, "mini_batch_size": 2, "verbose": False, "validation_frequency": 2},
    }
    path = folder / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_yaml_sizes_layout_and_plots(small_camvid, tmp_path):
    config = write_config(tmp_path, layout="camvid", image_size="24x32")
    job = load_job(config, ["options.plots=training-progress"])  # refused before: "needs output_dir"
    assert job.data.image_size == (24, 32) and job.training_options(tmp_path / "run").plots == "training-progress"
    assert len(open_data(job).train) == 4
    with pytest.raises(ConfigurationError, match=r"yaml: data\.image_size must look like HxW.*got \[0, 5\]"):
        load_job(config, ["data.image_size=[0, 5]"])
    with pytest.raises(ConfigurationError, match=r"data\.layout"):
        load_job(config, ["data.layout=voc"])
    with pytest.raises(DataError, match="is not in CamVid layout"):
        open_data(load_job(config, [f"data.root={tmp_path}"]))


def test_output_that_is_a_file_is_refused_before_reading_data(tmp_path):
    (tmp_path / "run").write_text("x")
    job = load_job(write_config(tmp_path), ["data.root=/nowhere"])
    with pytest.raises(ConfigurationError, match="run is a file, not a folder"):
        run_train_job(job, tmp_path / "run")


@pytest.mark.filterwarnings("ignore:class_weights")
def test_run_and_resume_a_run_whose_path_holds_yaml_characters(small_camvid, tmp_path):
    """--resume passed the checkpoint path through a YAML override: in "exp #2" the " #2..."
    was read as a comment, so the run resumed from a path that does not exist."""
    config = write_config(tmp_path)
    out = tmp_path / "exp #2: b"
    lines: list[str] = []
    run = run_train_job(load_job(config), out, echo=lines.append)
    assert run.output == out and run.trained.class_set.num_classes == 11 and len(run.data.validation) == 2
    assert any("median_frequency weights" in line for line in lines)
    assert 0 <= run.metrics["dataset_metrics"]["global_accuracy"] <= 1
    resumed = run_train_config(config, ["options.max_epochs=2"], resume=out, echo=lines.append)
    assert resumed.output == out and f"resuming from {out / 'checkpoints'}" in "\n".join(lines)
    assert load_network(out / "network.ckpt").history.epoch.max() == 2


def test_image_size_of_zero_names_the_key(tmp_path):
    with pytest.raises(ConfigurationError, match=r"train\.yaml: data\.image_size must look like HxW.*\[0, 0\]"):
        load_job(write_config(tmp_path, image_size=[0, 0]))


@pytest.mark.filterwarnings("ignore:class_weights")
def test_a_failed_start_does_not_block_the_retry_and_one_seed_gives_one_loss_curve(small_camvid, tmp_path):
    """A failed start left config.yaml, so the retry was refused as "not empty"; and the network
    was built before seeding, so one seed gave two loss curves."""
    config = write_config(tmp_path)
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigurationError, match="class_weights sum to 0"):
        run_train_job(load_job(config, ["class_weights=[" + ", ".join(["0"] * 11) + "]"]), out, overwrite=True,
                      echo=lambda line: None)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # the user's file stays, nothing else
    (out / "notes.txt").unlink()
    first = run_train_job(load_job(config, ["options.seed=3"]), out, echo=lambda line: None)  # not refused
    second = run_train_job(load_job(config, ["options.seed=3"]), tmp_path / "again", echo=lambda line: None)
    losses = first.trained.history.loss.tolist()
    assert len(losses) >= 2 and losses == second.trained.history.loss.tolist()


@pytest.mark.filterwarnings("ignore:class_weights")
def test_a_config_fit_to_a_time_budget_keeps_its_recipe(small_camvid, tmp_path, monkeypatch):
    """``pixelseg train --config FILE --time-budget``: the epochs come from the measured step
    time, everything else from the config, and the run's config.yaml repeats it."""
    from pixelseg.workflow import auto_train

    teachers = []
    monkeypatch.setattr(auto_train, "measure_step", lambda *a, teacher=None, **k: teachers.append(teacher) or 10.0)
    monkeypatch.setattr(auto_train, "measure_validation_pass", lambda *a, **k: 1.0)
    config = write_config(tmp_path, augment="default")
    lines: list[str] = []
    # fit_to_max_time=false (kept): the fake 10 s step plans the run, not the real one
    run = auto_train.run_config_within_budget(config, "90s", ["options.initial_learn_rate=0.003",
                                                              "options.fit_to_max_time=false"],
                                              output=tmp_path / "run", echo=lines.append)
    # 90 s: reserve 9.5 s, final 1.3 s, 3 validations of 1 + 2 * 10 * 0.35 = 8 s: 55 s of
    # 10 s steps -> 5 steps, 2 per epoch (4 pairs, batches of 2) -> 2 epochs
    text = (run.output / "config.yaml").read_text()
    assert text.startswith("# pixelseg train --config") and "options.max_epochs = 2" in text
    job = load_job(run.output / "config.yaml")
    assert job.options["max_epochs"] == 2 and job.options["initial_learn_rate"] == 0.003
    assert job.options["validation_frequency"] == 2 and job.options["max_time"] > 0
    assert job.options["fit_to_max_time"] is False
    assert job.data.augment == "default" and job.network["name"] == "unet"
    assert load_network(run.output / "network.ckpt").history.epoch.max() == 2
    assert (run.output / "validation_metrics.json").is_file() and any("planned for the budget" in x for x in lines)
    with pytest.raises(ConfigurationError, match="leaves no time to train"):
        auto_train.run_config_within_budget(config, "5s", output=tmp_path / "run2")
    # A distillation teacher is timed with the step it adds to (here the run's own network).
    assert teachers[-1] is None
    with pytest.raises(ConfigurationError, match="leaves no time to train"):
        auto_train.run_config_within_budget(config, "5s", [f"options.distillation_teacher={run.output / 'network.ckpt'}"],
                                            output=tmp_path / "run3")
    assert teachers[-1] is not None and teachers[-1].network.num_classes == 11
    from pixelseg.workflow.train_command import run_train_command

    with pytest.raises(ConfigurationError, match="--time-budget with --resume does not apply"):
        run_train_command(config, time_budget="10m", resume=run.output)


def test_the_command_fits_a_config_to_a_budget_or_says_why_it_cannot(small_camvid, tmp_path):
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "pixelseg"
    config = write_config(tmp_path)
    result = subprocess.run([str(exe), "train", "--config", str(config), "--time-budget", "5s", "--output",
                             str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "a time budget of 5 s leaves no time to train" in result.stderr and not (tmp_path / "run").exists()
    result = subprocess.run([str(exe), "train", "--config", str(config), "--time-budget", "2m", "--resume",
                             str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "--time-budget with --resume does not apply" in result.stderr


@pytest.mark.filterwarnings("ignore:class_weights")
def test_retraining_on_train_and_val_says_the_validation_scores_are_not_held_out(small_camvid, tmp_path):
    """data.train_splits: the published CamVid protocol trains on train + val once the
    settings were chosen on val; the run must say its validation scores are not held out."""
    (tmp_path / "held").mkdir()
    assert open_data(load_job(write_config(tmp_path / "held", root=str(small_camvid)))).validation_trained_on == 0
    config = write_config(tmp_path, layout="camvid", train_splits=["train", "val"])
    job = load_job(config)
    data = open_data(job)
    assert len(data.train) == 6 and len(data.validation) == 2 and data.validation_trained_on == 2
    assert data.train.names[-2:] == data.validation.names
    lines: list[str] = []
    run = run_train_job(job, tmp_path / "run", echo=lines.append)
    assert "2 of the 2 validation images are trained on too" in "\n".join(lines)
    assert run.metrics["validation_trained_on"] == 2
    assert json.loads((tmp_path / "run" / "validation_metrics.json").read_text())["validation_trained_on"] == 2
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["data"]["train_splits"] == ["train", "val"]
    with pytest.raises(ConfigurationError, match="no split 'tset'; splits: train, val"):
        open_data(load_job(config, ["data.train_splits=[train, tset]"]))
    with pytest.raises(ConfigurationError, match="train_splits must name one or more splits, each once"):
        load_job(config, ["data.train_splits=[train, train]"])


@pytest.mark.parametrize("word", ["none", "None"])
def test_network_weights_none_in_yaml_is_random_initialisation_not_a_path(tmp_path, word):
    """``weights: none`` (as ``class_weights: none``) was read as the file ``<yaml folder>/none``."""
    import torch

    from pixelseg.models.encoders import EfficientNetLite0Encoder, load_weights

    path = write_config(tmp_path)
    config = yaml.safe_load(path.read_text())
    config["network"] = {"name": "deeplabv3plus", "backbone": "efficientnet_lite0", "weights": word}
    path.write_text(yaml.safe_dump(config))
    job = load_job(path).resolved(tmp_path)
    assert job.network["weights"] == word
    encoder = EfficientNetLite0Encoder()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    assert load_weights(encoder, word) == {}
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())
