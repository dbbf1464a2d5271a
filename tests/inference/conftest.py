"""Tiny stand-in networks for inference tests (fast, with known answers); a tiny pixelseg
network and a local Ray instance for the Ray engine's tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from pixelseg.checkpoint import TrainedNetwork
from pixelseg.data import ClassSet
from pixelseg.models import create_network

CLASSES = ClassSet(["sky", "road", "car"], colors=[[128, 128, 128], [128, 64, 128], [64, 0, 128]])
#: The missing-extra sentence of the Ray engine.
RAY_HINT = ('distributed inference (engine="ray", pixelseg predict --ray) needs the "ray" extra (ray is not '
            'installed): pip install "pixelseg[ray]"')


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A tiny U-Net of pixelseg.models (3 classes, CLASSES) saved as ``network.checkpoint``:
    the Ray workers rebuild it from its checkpoint."""
    torch.manual_seed(0)
    net = create_network("unet", num_classes=3, encoder_depth=2, num_first_encoder_filters=4).eval()
    trained = TrainedNetwork(network=net, class_set=CLASSES)
    trained.checkpoint = trained.save(tmp_path_factory.mktemp("ckpt") / "tiny.pt")
    return trained


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance of 2 CPUs for one test module (skipped without ray)."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


class DominantChannel(nn.Module):
    """Logits = 10 * x, so class k wins where channel k is the largest: a hand-checkable
    'network' with ``num_classes`` = ``in_channels`` = C. A BatchNorm in train mode would
    change the answer, which lets tests see that inference runs in eval mode."""

    def __init__(self, channels: int = 3):
        super().__init__()
        self.in_channels = channels
        self.num_classes = channels
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.config = {"name": "dominant_channel", "num_classes": channels}

    def forward(self, x):
        return 10.0 * self.bn(x)


class TinyConvNet(nn.Module):
    """A small random conv net with a 3 x 3 receptive field stack (for tiling / TTA tests)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 4, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.in_channels, self.num_classes = in_channels, num_classes
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, num_classes, 3, padding=1),
        )

    def forward(self, x):
        return self.body(x)


@pytest.fixture
def dominant_net():
    return DominantChannel(3)


def expected_dominant(image: np.ndarray) -> np.ndarray:
    """Argmax over channels (first on ties), as uint8."""
    return image.argmax(axis=2).astype(np.uint8)


@pytest.fixture
def rgb_images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8) for _ in range(3)]


class ShapeRecorder(TinyConvNet):
    """TinyConvNet that records the (H, W) of every input it is given in ``.seen``."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(tuple(x.shape[-2:]))
        return super().forward(x)
