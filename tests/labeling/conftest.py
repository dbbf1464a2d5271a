"""Fixtures of the labeling tests: a tiny project (images, labels folder, classes.json)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet

HEIGHT, WIDTH = 24, 32
CLASS_NAMES = ["sky", "road", "car"]


def write_image(path, height=HEIGHT, width=WIDTH, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)


@pytest.fixture
def project(tmp_path):
    """tmp_path/{images/img_1.png, img_2.png, img_10.png, notes.txt}, labels/ (absent), classes.json."""
    images = tmp_path / "images"
    images.mkdir()
    for i, name in enumerate(["img_10.png", "img_2.png", "img_1.png"]):
        write_image(images / name, seed=i)
    (images / "notes.txt").write_text("not an image")
    ClassSet(CLASS_NAMES, void_ids=[255]).save(tmp_path / "classes.json")
    return {
        "root": tmp_path,
        "images": images,
        "labels": tmp_path / "labels",
        "classes": tmp_path / "classes.json",
    }


@pytest.fixture
def make_client(project):
    """make_client(**create_app_kwargs) -> TestClient of a fresh app on the project."""
    import warnings

    with warnings.catch_warnings():  # starlette's notice about httpx, not ours
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from pixelseg.labeling.server import create_app

    def make(**kwargs):
        app = create_app(project["images"], project["labels"], project["classes"], **kwargs)
        return TestClient(app)

    return make


@pytest.fixture
def client(make_client):
    return make_client()


WRITE = {"X-Requested-With": "pixelseg"}


def put_label(client, name, label, version="", **extra_headers):
    headers = {**WRITE, **extra_headers}
    if version is not None:
        headers["X-Label-Version"] = version
    return client.put(f"/api/images/{name}/label", content=np.ascontiguousarray(label, dtype=np.uint8).tobytes(), headers=headers)


def sample_label():
    label = np.full((HEIGHT, WIDTH), 255, dtype=np.uint8)
    label[2:6, 3:12] = 1
    label[10:, :5] = 2
    label[20:, 20:] = 0
    return label


# ------------------------------------------------------------------ a network of known uncertainty
GREY = 128  # the brightness at which the brightness network is most unsure


def brightness_net(num_classes: int = 3, gain: float = 40.0):
    """A network whose softmax depends only on brightness: uniform at grey 128 (u = 1).

    logits_k = gain * k * (mean of the pixel's channels - 128/255), k = 0..K-1: an image of
    grey 128 gives every class the same score; darker pixels favour class 0 more and more
    surely (dark 0 with gain 40: scores 1, 2e-9, 4e-18 -> u about 0).
    """
    import torch
    from torch import nn

    class BrightnessNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_classes, self.in_channels = num_classes, 3
            self.config = {"name": "brightness_test_net", "num_classes": num_classes, "gain": gain}
            self.register_buffer("slopes", gain * torch.arange(num_classes, dtype=torch.float32).view(1, -1, 1, 1))

        def forward(self, x):
            return self.slopes * (x.mean(1, keepdim=True) - GREY / 255)

    return BrightnessNet()


def expected_uncertainty(value: int, num_classes: int = 3, gain: float = 40.0) -> float:
    """The uncertainty of a uniform image of grey ``value`` under :func:`brightness_net`."""
    logits = gain * np.arange(num_classes) * (np.float32(value) / np.float32(255) - np.float32(GREY) / np.float32(255))
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return float(-(p * np.log(np.clip(p, 1e-12, 1))).sum() / np.log(num_classes))


@pytest.fixture(scope="session")
def _register_brightness_net():
    pytest.importorskip("torch")
    from pixelseg.models import registry

    registry._load_builtin()
    registry.register_network("brightness_test_net", brightness_net)
    yield
    registry._NETWORKS.pop("brightness_test_net", None)


def save_brightness_net(path, class_names=CLASS_NAMES, gain: float = 40.0):
    """Save :func:`brightness_net` as a TrainedNetwork for ``class_names``; returns the path."""
    from pixelseg.checkpoint import TrainedNetwork

    TrainedNetwork(network=brightness_net(len(class_names), gain).eval(),
                   class_set=ClassSet(class_names, void_ids=[255])).save(path, overwrite=True)
    return path


@pytest.fixture
def uncertain_project(tmp_path, _register_brightness_net):
    """Uniform images dark (0), mid (110) and grey (128) with a brightness network:
    most uncertain grey, then mid, then dark."""
    images = tmp_path / "images"
    images.mkdir()
    for name, value in [("dark.png", 0), ("grey.png", GREY), ("mid.png", 110)]:
        Image.fromarray(np.full((HEIGHT, WIDTH, 3), value, np.uint8)).save(images / name)
    ClassSet(CLASS_NAMES, void_ids=[255]).save(tmp_path / "classes.json")
    model = save_brightness_net(tmp_path / "net.pt")
    return {"root": tmp_path, "images": images, "labels": tmp_path / "labels",
            "classes": tmp_path / "classes.json", "model": model}
