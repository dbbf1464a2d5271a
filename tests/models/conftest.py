"""Tiny network configurations shared by the model tests (fast on one CPU thread)."""

from __future__ import annotations

import importlib

import pytest

# the module, not the function pixelseg.models.fcn that shadows it as a package attribute
fcn_module = importlib.import_module("pixelseg.models.fcn")

# One tiny configuration per network family and encoder; (name, kwargs).
TINY_CONFIGS = [
    ("unet", {"num_first_encoder_filters": 4, "encoder_depth": 3}),
    ("unet", {"encoder": "efficientnet_lite0", "encoder_depth": 3}),
    ("unet", {"encoder": "resnet18", "encoder_depth": 2}),
    ("unet", {"encoder": "vgg16_bn", "encoder_depth": 2}),
    ("deeplabv3plus", {"backbone": "efficientnet_lite0"}),
    ("deeplabv3plus", {"backbone": "efficientnet_lite0", "downsampling_factor": 8}),
    ("deeplabv3plus", {"backbone": "resnet18"}),
    ("segnet", {"encoder_depth": 2}),
    ("segnet", {"encoder": "vgg16_bn", "encoder_depth": 3}),
    ("fcn", {"type": "8s"}),
    ("fcn", {"type": "16s"}),
    ("fcn", {"type": "32s"}),
]


def config_id(config) -> str:
    name, kwargs = config
    return name + "-" + "-".join(f"{v}" for v in kwargs.values())


@pytest.fixture(autouse=True)
def narrow_fcn(monkeypatch):
    """FCN's fc6/fc7 are 4096 wide (119 M weights, seconds to allocate); 64 keeps tests fast.

    test_full_size_networks.py builds the real width once.
    """
    monkeypatch.setattr(fcn_module, "FC_CHANNELS", 64)
