"""Networks record their own arguments and register where they are defined.

The registry tests that depend on what was imported or registered first run in a fresh
interpreter: other tests import pixelseg.models long before.
"""

from __future__ import annotations

import copy
import inspect
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import pixelseg
from pixelseg.models import create_network, deeplabv3plus, fcn, register_network, registry, segnet, unet
from pixelseg.models.base import SegmentationNetwork, check_common
from pixelseg.models.deeplabv3plus import DeepLabV3Plus
from pixelseg.models.fcn import FCN
from pixelseg.models.segnet import SegNet
from pixelseg.models.unet import UNet

ROOT = Path(pixelseg.__file__).resolve().parent.parent
BUILTINS = ["segnet", "unet", "deeplabv3plus", "fcn"]


def run_fresh(code: str) -> str:
    """Run ``code`` in a new interpreter that imports this checkout; returns its stdout."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_register_network_before_create_network_keeps_the_builtins():
    # issue 14: registering first used to stop the built-ins from ever loading
    out = run_fresh(
        "from pixelseg.models import create_network, list_networks, register_network\n"
        "register_network('mine', lambda num_classes=None: None)\n"
        "print(list_networks())\n"
        "print(create_network('segnet', 2, encoder_depth=1).config['name'])\n"
    )
    assert out.splitlines() == [repr(BUILTINS + ["mine"]), "segnet"]


def test_the_registry_imports_the_builtin_modules_itself():
    # a pixelseg.models package that imports no network module (as a lazy __init__ would)
    out = run_fresh(
        "import sys, types, pixelseg\n"
        "package = types.ModuleType('pixelseg.models')\n"
        f"package.__path__ = [{str(ROOT / 'pixelseg' / 'models')!r}]\n"
        "sys.modules['pixelseg.models'] = package\n"
        "from pixelseg.models import registry\n"
        "print(sorted(m for m in sys.modules if m.startswith('pixelseg.models.') and 'encoders' not in m))\n"
        "registry.register_network('segnet', lambda num_classes=None: 'mine')\n"
        "print(registry.list_networks())\n"
        "print(registry.create_network('segnet', 2), registry.create_network('fcn', 2, type='32s').name)\n"
    )
    assert out.splitlines() == [
        "['pixelseg.models.base', 'pixelseg.models.layers', 'pixelseg.models.registry']",
        repr(BUILTINS),
        "mine fcn",  # the user's registration replaces the built-in of the same name
    ]


def test_register_network_as_a_decorator_and_as_a_function():
    def build(num_classes=None, width=4):
        return ("built", num_classes, width)

    try:
        assert register_network("decorated_net")(build) is build
        assert register_network("plain_net", build) is build
        assert registry.list_networks()[:4] == BUILTINS
        assert registry.list_networks()[-2:] == ["decorated_net", "plain_net"]
        assert create_network("decorated_net", 3, width=2) == ("built", 3, 2)
        assert create_network("plain_net", 1) == ("built", 1, 4)
    finally:
        registry._NETWORKS.pop("decorated_net", None)
        registry._NETWORKS.pop("plain_net", None)


@pytest.mark.parametrize(("cls", "builder"), [(SegNet, segnet), (UNet, unet), (DeepLabV3Plus, deeplabv3plus),
                                              (FCN, fcn)])
def test_each_class_takes_the_arguments_of_its_builder(cls, builder):
    def params(function):
        return [(p.name, p.default) for p in inspect.signature(function).parameters.values() if p.name != "self"]

    assert params(cls.__init__) == params(builder)
    assert registry._NETWORKS[cls.name] is builder


def test_a_class_called_directly_records_the_same_config_as_its_builder():
    net = DeepLabV3Plus((48, 64, 3), 5, backbone="efficientnet_lite0", downsampling_factor=8)
    assert net.config == deeplabv3plus((48, 64, 3), 5, backbone="efficientnet_lite0", downsampling_factor=8).config
    assert SegNet(num_classes=2, encoder_depth=1).config == segnet(num_classes=2, encoder_depth=1).config
    assert UNet([8, 8], 2, encoder_depth=1).config["image_size"] == (8, 8)


class Recorded(SegmentationNetwork):
    """A user's network: 1x1 convolution; records its own arguments like the built-ins."""

    name = "recorded_test_net"

    def __init__(self, image_size=None, num_classes=None, width=4, weights=None, in_channels=3):
        size = check_common(num_classes, in_channels, image_size)
        super().__init__(num_classes, in_channels, stride=1, image_size=size)
        self.conv = nn.Conv2d(in_channels, num_classes, 1)

    def forward_padded(self, x):
        return self.conv(x)


def test_a_user_network_records_its_arguments_and_rebuilds_from_them():
    net = Recorded([8, 8], 2, weights="ignored", width=3)
    assert repr(net.config) == ("{'name': 'recorded_test_net', 'num_classes': 2, 'width': 3, 'in_channels': 3, "
                                "'image_size': (8, 8)}")
    try:
        register_network("recorded_test_net", Recorded)  # a class is a builder too
        rebuilt = create_network(**json.loads(json.dumps(net.config)))
        assert type(rebuilt) is Recorded and rebuilt.config == net.config
        assert rebuilt.conv.weight.shape == net.conv.weight.shape
    finally:
        registry._NETWORKS.pop("recorded_test_net", None)


def test_copies_keep_the_config():
    net = deeplabv3plus((32, 32), 3, backbone="efficientnet_lite0")
    for twin in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert twin.config == net.config and twin.config is not net.config
        assert torch.equal(twin.classifier.weight, net.classifier.weight)
