"""The automatic recipe (``pixelseg train --data DIR --time-budget``): choices, budget, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import PixelLabelDatastore
from pixelseg.data.class_inference import RAW_VALUES, infer_class_set
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.duration import parse_duration
from pixelseg.workflow import auto_train
from pixelseg.workflow.auto_recipe import DataProfile, choose_recipe, plan_budget
from pixelseg.workflow.train_config import load_job

EXE = Path(sys.executable).parent / "pixelseg"


def profile(size=(360, 480), grey=False, fractions=(0.5, 0.3, 0.2), n=100, n_val=20):
    names = [f"c{i}" for i in range(len(fractions))]
    return DataProfile(n, n_val, size, grey, names, np.array(fractions, float))


def test_durations():
    assert parse_duration("30m") == 1800 and parse_duration("1h30m") == 5400 and parse_duration("90s") == 90
    assert parse_duration("600") == 600 and parse_duration(2.5) == 2.5 and parse_duration("2.5m") == 150
    for bad in ("soon", "10 x", "0", "-5", "5m3"):
        with pytest.raises(ConfigurationError, match="--time-budget"):
            parse_duration(bad, "--time-budget")


def test_road_scenes_get_crops_flips_and_no_weights_when_balanced():
    r = choose_recipe(profile())
    assert r.data == {"crop_size": [256, 320], "augment": "default"}  # 360 x 480 > 1.5 crops of 256 x 320
    assert r.class_weights == "none" and r.network["backbone"] == "efficientnet_lite0"
    assert r.options["output_network"] == "last-iteration"
    keys = [c.key for c in r.choices]
    assert keys[0] == "domain" and "data.crop_size" in keys and all(c.reason for c in r.choices)


def test_grey_images_are_taken_as_microscopy_and_rotated():
    r = choose_recipe(profile(size=(512, 512), grey=True, fractions=(0.22, 0.78)))
    assert r.choices[0].value == "microscopy" and r.data["augment"] == "overhead"
    assert r.data["crop_size"] == [288, 288]  # sqrt(256 * 320) = 286 -> 288
    assert choose_recipe(profile(grey=True), domain="medical").data["augment"] == "default"
    with pytest.raises(ConfigurationError, match="--domain must be one of"):
        choose_recipe(profile(), domain="space")


def test_large_tiles_are_scaled_and_rare_classes_weighted():
    r = choose_recipe(profile(size=(3000, 4000), fractions=(0.9, 0.09, 0.01)), domain="aerial")
    assert r.data["image_size"] == [768, 1024] and r.data["augment"] == "overhead"
    assert r.class_weights == "enet" and "'c2' is 90x rarer" in r.choices[[c.key for c in r.choices].index(
        "class_weights")].reason
    assert choose_recipe(profile(size=(64, 64))).data == {"augment": "default"}  # small: whole images
    assert choose_recipe(profile(fractions=(1.0, 0.0))).class_weights == "enet"  # a class without pixels
    assert choose_recipe(profile(n=3)).options["mini_batch_size"] == 3


def test_budget_sets_epochs_validations_and_a_hard_stop():
    # 600 s budget, 20 s spent, 2 s per step, 10 s per validation pass, 10 iterations per epoch:
    # reserve 35 s -> 545 s; final evaluation 1.3 * 10 = 13 s; recalibration min(16, 10) * 2 * 0.35
    # = 7 s per validation; 3 validations: 545 - 13 - 3 * 17 = 481 s >= 0.6 * 545 -> 240 steps
    r = plan_budget(choose_recipe(profile()), 600, 20, 2.0, 10.0, 10)
    assert r.options["max_epochs"] == 24 and r.options["validation_frequency"] == 80
    assert r.options["warmup_epochs"] == 1 and r.options["max_time"] == pytest.approx(532.0)
    assert r.options["fit_to_max_time"] is True  # the epochs are re-planned from the run's own first epoch
    # validation dominates: fewer validations (1), never fewer than one
    r = plan_budget(choose_recipe(profile()), 600, 20, 2.0, 120.0, 10)
    assert r.options["validation_frequency"] == r.options["max_epochs"] * 10
    with pytest.raises(ConfigurationError, match=r"one step takes 9.0 s .* give at least \d+ minutes"):
        plan_budget(choose_recipe(profile()), 60, 30, 9.0, 5.0, 10)


def _save(path: Path, array) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


def test_classes_from_label_values(tmp_path):
    _save(tmp_path / "g" / "a.png", [[0, 255], [255, 255]])
    _save(tmp_path / "g" / "b.png", [[0, 0], [0, 0]])
    classes = infer_class_set([PixelLabelDatastore(tmp_path / "g", RAW_VALUES)])
    assert classes.names == ["value_0", "value_255"] and classes.void_ids == []
    _save(tmp_path / "c" / "a.png", [[[10, 20, 30], [0, 0, 0]]])
    rgb = infer_class_set([PixelLabelDatastore(tmp_path / "c", RAW_VALUES)])
    assert rgb.names == ["rgb_0_0_0", "rgb_10_20_30"] and rgb.label_ids == [[(0, 0, 0)], [(10, 20, 30)]]
    _save(tmp_path / "photo" / "a.png", np.arange(64).reshape(8, 8))
    with pytest.raises(DataError, match=r"a.png: the label files hold more than 32 distinct values"):
        infer_class_set([PixelLabelDatastore(tmp_path / "photo", RAW_VALUES)])
    with pytest.raises(DataError, match="no label files"):
        infer_class_set([])


def _isbi_like(root: Path) -> Path:
    """train/image + train/label, greyscale, 0/255 masks, no class file (as ISBI 2012)."""
    rng = np.random.default_rng(0)
    for i in range(10):
        mask = np.zeros((32, 32), np.uint8)
        mask[8:24, 4 + i:18 + i] = 255
        _save(root / "train" / "image" / f"{i}.png", rng.integers(0, 60, (32, 32)) + (mask > 0) * 150)
        _save(root / "train" / "label" / f"{i}.png", mask)
    return root


def test_a_folder_of_grey_0_255_masks_to_a_report(tmp_path, monkeypatch):
    from pixelseg.workflow import auto_train

    # Measured times fixed (the machine may be busy): 30 s per step leaves a step or two in 2 minutes.
    monkeypatch.setattr(auto_train, "measure_step", lambda *a, **k: 30.0)
    monkeypatch.setattr(auto_train, "measure_validation_pass", lambda *a, **k: 1.0)
    lines = []
    run = auto_train.run_auto_train(_isbi_like(tmp_path / "em"), time_budget="2m", output=tmp_path / "run",
                                    echo=lines.append)
    text = "\n".join(lines)
    assert "domain = microscopy" in text and "Foreground class 'value_255'" in text
    for name in ("network.ckpt", "metrics.json", "training_progress.png", "choices.json", "validation_files.csv"):
        assert (run.output / name).is_file(), name
    assert len(list((run.output / "overlays").glob("*.png"))) == 2
    choices = {c["key"]: c["value"] for c in json.loads((run.output / "choices.json").read_text())}
    assert choices["classes"] == "value_0, value_255" and choices["data.augment"] == "overhead"
    # 30 s per step in a 2-minute budget: one or two steps, as the reading took more or less time
    assert choices["options.max_epochs"] in (1, 2) and set(run.metrics["dataset_metrics"]) >= {"mean_iou", "mean_dice"}
    assert (run.output / "config.yaml").read_text().startswith("# pixelseg train --data")
    job = load_job(run.output / "config.yaml")  # the config repeats the run: same data, classes and options
    assert job.options["max_epochs"] == choices["options.max_epochs"] and job.data.augment == "overhead"
    assert job.data.root == (tmp_path / "em").resolve() and job.classes["classes"][1]["ids"] == [255]


def test_the_command_says_when_the_budget_is_too_small(tmp_path):
    result = subprocess.run([str(EXE), "train", "--data", str(_isbi_like(tmp_path / "em")), "--time-budget", "5s",
                             "--output", str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "a time budget of 5 s leaves no time to train" in result.stderr
    assert not (tmp_path / "run").exists()


def test_thin_classes_limit_how_far_large_tiles_are_scaled_down():
    """3000 x 4000 aerial tiles were scaled to a longest side of 1024 whatever they held: a
    class 6 px wide (roads, power lines) became 1.5 px, below what the network can draw."""
    thin = profile(size=(3000, 4000), fractions=(0.9, 0.09, 0.01))
    thin.class_width = np.array([200.0, 6.0, 40.0])
    r = choose_recipe(thin, domain="aerial")
    assert r.data["image_size"] == [1504, 2000]  # scale 3 / 6 = 0.5: the class is 3 px wide
    choices = {c.key: c for c in r.choices}
    assert choices["objects"].value == "c1 6.0 px" and "c0 200, c1 6, c2 40" in choices["objects"].reason
    assert "class 'c1', 6.0 px wide, would be 1.5 px; scaled by 0.50 it is 3.0 px" in choices["data.image_size"].reason
    thin.class_width = np.array([200.0, 1.0, 40.0])  # at most 2048 on the longest side
    assert choose_recipe(thin, domain="aerial").data["image_size"] == [1536, 2048]
    thin.class_width = np.array([200.0, 1.0, np.nan])
    thin.class_fraction = np.array([0.9995, 0.0005, 0.0])  # too rare a class to set the size
    assert choose_recipe(thin, domain="aerial").data["image_size"] == [768, 1024]
    thin.image_size = (1100, 1100)
    thin.class_width = np.array([200.0, 2.9, 40.0])
    thin.class_fraction = np.array([0.9, 0.09, 0.01])
    r = choose_recipe(thin, domain="aerial")  # scale 1.03 > 1: kept at its size, cropped
    assert "image_size" not in r.data and r.data["crop_size"] == [288, 288]
    wide = profile(size=(3000, 4000))
    wide.class_width = np.array([300.0, 90.0, 50.0])
    assert choose_recipe(wide).data["image_size"] == [768, 1024]


def test_class_widths_of_stripes_discs_and_the_border(tmp_path):
    from pixelseg.data import ClassSet
    from pixelseg.data.object_size import class_widths

    label = np.zeros((40, 600), np.uint8)
    label[10:20, :] = 1  # a stripe 10 px wide: d = 1..5, 5..1, mean 3 -> 4 * 3 - 2 = 10 (but at its ends)
    label[30:32, 5:15] = 255  # void is outside every class
    _save(tmp_path / "a.png", label)
    widths = class_widths(PixelLabelDatastore(tmp_path / "a.png", ClassSet(["bg", "stripe", "absent"], void_ids=[255])))
    assert widths[1] == pytest.approx(10.0, abs=0.1) and np.isnan(widths[2]) and widths[0] > 10
    yy, xx = np.mgrid[:81, :81]
    disc = (((yy - 40) ** 2 + (xx - 40) ** 2) <= 30 ** 2).astype(np.uint8)  # diameter 61: about 2/3 of it
    _save(tmp_path / "b.png", disc)
    assert class_widths(PixelLabelDatastore(tmp_path / "b.png", ClassSet(["bg", "disc"])))[1] == pytest.approx(
        2 / 3 * 61, rel=0.05)
    edge = np.zeros((400, 20), np.uint8)
    edge[:, :4] = 1  # cut by the border: measured as the 4 px that are seen
    _save(tmp_path / "c.png", edge)
    assert class_widths(PixelLabelDatastore(tmp_path / "c.png", ClassSet(["bg", "edge"])))[1] == pytest.approx(4.0, abs=0.05)


def test_class_widths_of_large_labels_are_measured_in_a_central_window(tmp_path):
    from pixelseg.data import ClassSet
    from pixelseg.data.object_size import class_widths

    label = np.zeros((300, 300), np.uint8)
    label[:, 146:154] = 1  # an 8 px line through the centre
    label[:20, :20] = 2  # a corner block outside the central 100 x 100 window
    _save(tmp_path / "a.png", label)
    ds = PixelLabelDatastore(tmp_path / "a.png", ClassSet(["bg", "line", "corner"]))
    widths = class_widths(ds, window=100)
    assert widths[1] == pytest.approx(8.0, abs=0.5) and np.isnan(widths[2])
    assert class_widths(ds)[2] > 10  # measured whole when within the window


class _Clock:
    """A stand-in for the ``time`` module whose clock moves only when the network says."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


def _slow_start(clock, delays):
    """A tiny network whose forward pass takes ``delays[i]`` seconds of ``clock`` on call i
    (the last delay from then on): the slow first steps of a fresh process."""
    import torch

    class Net(torch.nn.Conv2d):
        calls = 0

        def forward(self, x):
            clock.now += delays[min(Net.calls, len(delays) - 1)]
            Net.calls += 1
            return super().forward(x)

    return Net(3, 2, 1)


def _tiny_pairs(n=4):
    import torch

    return [(torch.rand(3, 8, 8), torch.randint(0, 2, (8, 8))) for _ in range(n)]


def test_step_time_is_not_inflated_by_the_slow_first_steps(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(auto_train, "time", clock)
    # camvid in a fresh process: 3.0, 2.0, 1.6 s, then about 1.5 s with slower ones between
    net = _slow_start(clock, [3.0, 2.0, 1.6, 1.8, 1.5, 1.7, 1.9, 1.5, 1.9, 1.5, 1.5])
    assert auto_train.measure_step(net, _tiny_pairs(), batch_size=2) == pytest.approx(1.5)


def test_a_distillation_teacher_is_timed_in_each_step(monkeypatch):
    from pixelseg.training.distillation import DistillationTeacher

    clock = _Clock()
    monkeypatch.setattr(auto_train, "time", clock)
    student = _slow_start(clock, [1.0])
    teacher = DistillationTeacher(_slow_start(clock, [0.5]), input_scale=2.0)
    assert auto_train.measure_step(student, _tiny_pairs(), batch_size=2, teacher=teacher) == pytest.approx(1.5)


def test_step_measurement_stops_after_max_seconds_of_measured_steps(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(auto_train, "time", clock)
    net = _slow_start(clock, [2.0])
    step = auto_train.measure_step(net, _tiny_pairs(), batch_size=2, steps=10, warmup=1, max_seconds=3.0)
    assert step == pytest.approx(2.0)
    assert type(net).calls == 3  # one warm-up, then two measured steps reach 3 s


class _SleepyNet:
    """Forward passes of 0.05 s each; counts them."""

    def __init__(self):
        self.calls, self.training = 0, True

    def eval(self):
        self.training = False
        return self

    def train(self, mode=True):
        self.training = mode
        return self

    def __call__(self, x):
        import time

        time.sleep(0.05)
        self.calls += 1
        return x


@pytest.mark.parametrize("images", [1, 5])
def test_validation_pass_is_timed_after_a_warm_up_even_for_one_image(images):
    import torch

    dataset = [(torch.zeros(3, 4, 4), torch.zeros(4, 4)) for _ in range(images)]
    net = _SleepyNet()
    seconds = auto_train.measure_validation_pass(net, dataset, samples=2)
    assert net.calls == 1 + min(2, images)  # the warm-up, then the timed images
    assert images * 0.05 <= seconds < images * 0.05 * 1.8
