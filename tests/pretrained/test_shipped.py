"""The networks shipped in the repository: their cards, offline loading, and that they label
road scenes (the bundled CamVid sample's validation images; the networks retrained on train +
val have seen them, so only a coarse floor is checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixelseg.checkpoint import load_network
from pixelseg.pretrained import model_cards
from pixelseg.workflow.demo import bundled_sample

EXE = Path(sys.executable).with_name("pixelseg")
CARDS = model_cards()


def test_every_shipped_network_has_a_card_within_the_size_limit():
    assert "camvid" in [card.name for card in CARDS]
    for card in CARDS:
        assert card.size_mb <= 20, card.name
        assert 0 < card.validation["mean_iou"] < 1 and "val" in card.validation["split"], card.name
        assert card.fields["commit"] and card.fields["command"], card.name


@pytest.mark.parametrize("name", [card.name for card in CARDS])
def test_a_shipped_network_labels_unseen_road_scenes(name, demo_data):
    from pixelseg.data import ImageDatastore, PixelLabelDatastore, combine
    from pixelseg.data.formats.camvid import camvid_class_set
    from pixelseg.evaluation import evaluate_semantic_segmentation
    from pixelseg.inference import semanticseg

    net = load_network(name)
    assert list(net.class_set.names) == list(camvid_class_set().names)
    pairs = combine(ImageDatastore(demo_data / "val"), PixelLabelDatastore(demo_data / "valannot", net.class_set))
    picked = [0, 10]
    predictions = [semanticseg(pairs.images.read(i), net) for i in picked]
    metrics = evaluate_semantic_segmentation(predictions, [pairs.labels.read(i) for i in picked],
                                             class_set=net.class_set, verbose=False)
    assert predictions[0].shape == (360, 480)
    assert metrics.dataset_metrics.global_accuracy[0] > 0.8, metrics.dataset_metrics


@pytest.mark.slow
def test_pixelseg_predict_camvid_from_the_installed_command(tmp_path):
    image = sorted((bundled_sample() / "val").glob("*.jpg"))[0]
    command = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "pixelseg"]
    result = subprocess.run([*command, "predict", "camvid", str(image), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    labels = np.asarray(Image.open(tmp_path / f"pred_{image.stem}.png"))
    assert labels.shape == (360, 480) and set(np.unique(labels)) <= set(range(11))
    assert np.mean(labels == 3) > 0.1  # Road is a tenth of this frame at least
