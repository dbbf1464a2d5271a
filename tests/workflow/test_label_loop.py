"""The model-in-the-loop step: fine-tune the labeler's network on the labels saved so far."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pixelseg.checkpoint import TrainedNetwork, load_network
from pixelseg.data import ClassSet
from pixelseg.errors import DataError
from pixelseg.models import create_network
from pixelseg.workflow import auto_train
from pixelseg.workflow.label_loop import run_label_loop
from pixelseg.workflow.train_config import load_job

EXE = Path(sys.executable).parent / "pixelseg"


def _labeller_folders(root: Path, labelled: int) -> tuple[Path, Path, Path]:
    """6 images, the first ``labelled`` with a label as the labeler saves it (palette PNG of
    class indices, 255 where nothing was painted), and the labeler's network (random weights)."""
    images, labels = root / "photos", root / "labels"
    images.mkdir(parents=True), labels.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        mask = np.zeros((32, 32), np.uint8)
        mask[8:24, 8 + i:20 + i] = 1
        Image.fromarray((rng.integers(0, 60, (32, 32, 3)) + mask[..., None] * 150).astype(np.uint8)).save(
            images / f"img{i}.jpg")
        if i < labelled:
            painted = mask.copy()
            painted[:4] = 255  # not painted yet: void
            png = Image.fromarray(painted, mode="P")
            png.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
            png.save(labels / f"img{i}.png")
    torch.manual_seed(0)
    net = create_network("deeplabv3plus", num_classes=2, backbone="efficientnet_lite0", weights=None)
    model = TrainedNetwork(network=net.eval(), class_set=ClassSet(["background", "crack"])).save(root / "net.ckpt")
    return labels, images, model


def test_fine_tunes_the_labellers_network_on_the_labelled_images(tmp_path, monkeypatch):
    labels, images, model = _labeller_folders(tmp_path, labelled=4)
    monkeypatch.setattr(auto_train, "measure_step", lambda *a, **k: 30.0)  # two steps in 2 minutes
    monkeypatch.setattr(auto_train, "measure_validation_pass", lambda *a, **k: 1.0)
    lines = []
    run = run_label_loop(labels, images, model, time_budget="2m", output=tmp_path / "run", echo=lines.append)
    assert "data: 4 labelled images" in lines[0] and "train 3, validation 1" in lines[0]
    job = load_job(run.output / "config.yaml")
    assert job.init_from == model.resolve() and job.options["initial_learn_rate"] == 5e-4
    assert job.network["backbone"] == "efficientnet_lite0" and job.network.get("weights") is None
    before, after = load_network(model).network.state_dict(), load_network(run.output / "network.ckpt").network
    assert after.num_classes == 2
    assert any(not torch.equal(before[k], v) for k, v in after.state_dict().items() if v.is_floating_point())
    assert model.is_file()  # the labeler's network is never overwritten


def test_needs_two_labelled_images_and_all_three_folders(tmp_path):
    labels, images, model = _labeller_folders(tmp_path, labelled=1)
    with pytest.raises(DataError, match=r"1 labelled image\(s\) of .*photos; label at least 2"):
        run_label_loop(labels, images, model, time_budget="2m", output=tmp_path / "run")
    result = subprocess.run([str(EXE), "train", "--resume-from-labels", str(labels), "--images", str(images)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "needs --images" in result.stderr and "Traceback" not in result.stderr
