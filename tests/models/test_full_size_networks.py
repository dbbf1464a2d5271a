"""The real, full-size architectures (slow to build, so built once each)."""

from __future__ import annotations

import pytest
import torch

from pixelseg.models import create_network

from .conftest import fcn_module


def count(net) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("width", [64])  # 4096 in the real network: the same formula, 134.3 M
def test_fcn8s_parameter_count(width, monkeypatch):
    monkeypatch.setattr(fcn_module, "FC_CHANNELS", width)
    net = create_network("fcn", 11, type="8s").eval()
    # VGG-16 convolutions + fc6 (7x7) + fc7 (1x1) + scores of fc7, pool4, pool3 + two x2 upsamplings
    assert count(net) == 14_714_688 + (512 * 49 + 1) * width + (width + 1) * width + (width + 1) * 11 \
        + (512 + 1) * 11 + (256 + 1) * 11 + 2 * 11 * 11 * 16


def test_segnet_vgg16_full_depth():
    net = create_network("segnet", 11).eval()
    assert net.stride == 32
    # encoder 14.71 M; the mirrored decoder has the same convolutions (with BN) but the last
    assert count(net) == pytest.approx(29.4e6, rel=0.01)
    with torch.no_grad():
        assert net(torch.rand(1, 3, 64, 40)).shape == (1, 11, 64, 40)


def test_deeplabv3plus_resnet50_os8():
    net = create_network("deeplabv3plus", 4, backbone="resnet50", downsampling_factor=8).eval()
    assert net.stride == 8
    with torch.no_grad():
        assert net(torch.rand(1, 3, 64, 40)).shape == (1, 4, 64, 40)
