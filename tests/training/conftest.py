"""Tiny stand-ins for training tests: a 2-layer conv network and a synthetic dataset.

The network is registered in ``pixelseg.models``' registry as ``"tiny_test_net"`` so that
``load_network`` can rebuild it with ``create_network(**net.config)``, like a real network.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

VOID = 255


class TinyNet(nn.Module):
    """conv3x3 -> ReLU -> conv1x1; N x C x H x W in [0, 1] -> N x K x H x W (no batch norm)."""

    def __init__(self, num_classes: int = 3, in_channels: int = 3, width: int = 8) -> None:
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        self.config = {"name": "tiny_test_net", "num_classes": num_classes, "in_channels": in_channels, "width": width}
        self.body = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, num_classes, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def tiny_net(num_classes: int = 3, in_channels: int = 3, width: int = 8) -> TinyNet:
    return TinyNet(num_classes, in_channels, width)


class SyntheticSegmentation(torch.utils.data.Dataset):
    """Images whose class is readable from the colour: class k pixels have channel k bright.

    Yields (image 3 x H x W float32 in [0, 1], label H x W int64); ``void_fraction`` of the
    pixels are void (255). Deterministic in ``seed``.
    """

    def __init__(self, count: int = 16, size: int = 16, num_classes: int = 3, void_fraction: float = 0.0,
                 seed: int = 0, class_set=None) -> None:
        rng = np.random.default_rng(seed)
        self.labels = torch.from_numpy(rng.integers(0, num_classes, (count, size, size))).long()
        images = rng.uniform(0, 0.3, (count, 3, size, size)).astype(np.float32)
        for k in range(min(num_classes, 3)):
            images[:, k][self.labels.numpy() == k] += 0.6
        self.images = torch.from_numpy(images)
        if void_fraction:
            mask = torch.from_numpy(rng.uniform(size=(count, size, size)) < void_fraction)
            self.labels[mask] = VOID
        if class_set is not None:
            self.class_set = class_set

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i], self.labels[i]


@pytest.fixture(scope="session", autouse=True)
def _register_tiny_net():
    from pixelseg.models import registry

    registry._load_builtin()
    registry.register_network("tiny_test_net", tiny_net)
    yield
    registry._NETWORKS.pop("tiny_test_net", None)


@pytest.fixture()
def net() -> TinyNet:
    torch.manual_seed(0)
    return TinyNet()


@pytest.fixture()
def data() -> SyntheticSegmentation:
    return SyntheticSegmentation(16, 16, 3, seed=0)


@pytest.fixture()
def validation() -> SyntheticSegmentation:
    return SyntheticSegmentation(8, 16, 3, seed=1)
