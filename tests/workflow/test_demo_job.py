"""The demo is the train job: its description, defaults and data, without training."""

from __future__ import annotations

import pytest

from pixelseg.data import ClassSet
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.workflow.demo import DemoConfig, bundled_sample, demo_job
from pixelseg.workflow.train import open_data


def test_default_demo_keeps_the_settings_of_the_former_demo_pipeline(tmp_path):
    """The values the separate demo pipeline used before it became the train job."""
    config = DemoConfig.with_defaults(output=tmp_path / "out")
    assert config.data == bundled_sample() and config.epochs == 14 and config.image_size == (192, 256)
    data = open_data(demo_job(config))
    assert (len(data.train), len(data.validation), data.class_set.num_classes) == (60, 20, 11)
    job = demo_job(config, len(data.train))
    assert job.network == {"name": "deeplabv3plus", "backbone": "efficientnet_lite0", "weights": "imagenet"}
    assert job.class_weights == "median_frequency" and job.classes == bundled_sample() / "classes.json"
    assert (job.data.layout, job.data.image_size, job.data.augment, job.data.crop_size) == (
        "camvid", (192, 256), "default", None)
    options = job.training_options(tmp_path / "out")
    expected = dict(solver="adamw", initial_learn_rate=2e-3, learn_rate_schedule="poly", warmup_epochs=1,
                    l2_regularization=1e-4, max_epochs=14, mini_batch_size=8, shuffle="every-epoch",
                    validation_frequency=14, output_network="last-iteration", plots="training-progress", seed=0,
                    num_workers=0, verbose=True)
    assert {name: getattr(options, name) for name in expected} == expected


def test_demo_on_a_folder_defaults_to_native_size_and_20_epochs(small_camvid, tmp_path):
    config = DemoConfig.with_defaults(data=small_camvid, output=tmp_path / "o", network="unet", seed=3)
    assert (config.epochs, config.image_size, config.seed) == (20, None, 3)
    job = demo_job(config, train_pairs=4)
    assert job.network == {"name": "unet", "encoder": "efficientnet_lite0", "weights": "imagenet"}
    assert job.classes is None  # the CamVid classes
    assert job.options["validation_frequency"] == 2  # at least one iteration per epoch, times two
    assert DemoConfig.with_defaults(data=small_camvid, output="o", image_size="32x48").image_size == (32, 48)
    with pytest.raises(ConfigurationError, match="--image-size.*'big'"):
        DemoConfig.with_defaults(image_size="big")
    assert DemoConfig.with_defaults().output.parent.name == "runs"


def test_demo_data_without_val_is_partitioned_and_classes_file_is_used(tiny_camvid, tmp_path):
    root = tiny_camvid(n_train=5, n_val=0)
    ClassSet([f"c{i}" for i in range(12)], list(range(12))).save(root / "classes.json")
    data = open_data(demo_job(DemoConfig.with_defaults(data=root, output=tmp_path / "o")))
    assert (len(data.train), len(data.validation)) == (4, 1)
    assert data.class_set.num_classes == 12


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "not in CamVid layout"),
    (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "is not a folder"),
])
def test_bad_demo_folder_is_read_camvid_s_error(tmp_path, make, message):
    with pytest.raises(DataError, match=message):
        open_data(demo_job(DemoConfig.with_defaults(data=make(tmp_path), output=tmp_path / "o")))
