"""Registry: names, keyword checks, and configs that rebuild the same architecture."""

from __future__ import annotations

import json

import pytest
import torch

from pixelseg.errors import ConfigurationError
from pixelseg.models import create_network, deeplabv3plus, list_networks, segnet, unet

from .conftest import TINY_CONFIGS, config_id


def test_list_networks():
    # the built-in networks first, in this order (other tests may register more after them)
    assert list_networks()[:4] == ["segnet", "unet", "deeplabv3plus", "fcn"]


@pytest.mark.parametrize("config", [TINY_CONFIGS[i] for i in (0, 1, 5, 8, 10)], ids=config_id)
def test_config_round_trip_rebuilds_the_same_network(config):
    name, kwargs = config
    torch.manual_seed(0)
    net = create_network(name, 2, **kwargs).eval()
    config = json.loads(json.dumps(net.config))  # as a checkpoint stores it
    assert config["name"] == name and config["num_classes"] == 2
    rebuilt = create_network(**config).eval()
    assert type(rebuilt) is type(net) and rebuilt.config == net.config
    rebuilt.load_state_dict(net.state_dict())  # strict: same keys and shapes
    x = torch.rand(1, 3, 20, 12)
    with torch.no_grad():
        assert torch.equal(net(x), rebuilt(x))


def test_config_keeps_every_argument():
    net = deeplabv3plus((48, 64, 3), 5, backbone="efficientnet_lite0", downsampling_factor=8)
    assert net.config == {"name": "deeplabv3plus", "num_classes": 5, "backbone": "efficientnet_lite0",
                          "downsampling_factor": 8, "in_channels": 3, "image_size": (48, 64, 3)}
    assert net.num_classes == 5 and net.in_channels == 3


def test_unknown_network_names_the_allowed_ones():
    with pytest.raises(ConfigurationError, match="'pspnet'.*segnet.*unet.*deeplabv3plus.*fcn"):
        create_network("pspnet", 3)


def test_unknown_keyword_names_it_and_the_allowed_ones():
    with pytest.raises(ConfigurationError, match=r"\['backbone'\].*encoder_depth"):
        create_network("unet", 3, backbone="resnet18")


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: unet(num_classes=0), "num_classes=0"),
        (lambda: unet(num_classes=256), "num_classes=256.*255"),
        (lambda: unet(num_classes=2.5), "num_classes=2.5"),
        (lambda: unet(), "num_classes is required"),
        (lambda: unet(num_classes=2, encoder_depth=0), r"encoder_depth=0.*1\.\.7"),
        (lambda: unet(num_classes=2, encoder="resnet18", encoder_depth=6), r"encoder_depth=6.*resnet18.*1\.\.5"),
        (lambda: unet(num_classes=2, encoder="resnet34"), "encoder='resnet34'.*vgg16.*efficientnet_lite0"),
        (lambda: unet(num_classes=2, weights="imagenet"), "weights='imagenet'.*encoder="),
        (lambda: unet(num_classes=2, encoder="resnet18", num_first_encoder_filters=8), "num_first_encoder_filters=8"),
        (lambda: unet(num_classes=2, num_first_encoder_filters=0), "num_first_encoder_filters=0"),
        (lambda: unet(num_classes=2, in_channels=0), "in_channels=0"),
        (lambda: unet((32,), num_classes=2), r"image_size=\(32,\)"),
        (lambda: unet((32, 0), num_classes=2), r"image_size=\(32, 0\)"),
        (lambda: unet((32, 32, 3), num_classes=2, in_channels=1), "3 channels but in_channels=1"),
        (lambda: segnet(num_classes=2, encoder_depth=6), r"encoder_depth=6.*vgg16.*1\.\.5"),
        (lambda: segnet(num_classes=2, encoder="resnet18"), r"encoder='resnet18'.*\['vgg16', 'vgg16_bn'\]"),
        (lambda: deeplabv3plus(num_classes=2, downsampling_factor=32), r"downsampling_factor=32.*\[16, 8\]"),
        (lambda: deeplabv3plus(num_classes=2, backbone="vgg16"),
         "backbone='vgg16'.*resnet18.*resnet50.*efficientnet_lite0"),
        (lambda: deeplabv3plus(num_classes=2, weights="imagenet"), "weights='imagenet'.*efficientnet_lite0"),
        (lambda: create_network("fcn", 2, type="4s"), r"type='4s'.*\['32s', '16s', '8s'\]"),
    ],
)
def test_impossible_configurations_raise_before_compute(build, match):
    with pytest.raises(ConfigurationError, match=match):
        build()


@pytest.mark.parametrize("word", ["none", "None"])
def test_weights_none_as_a_yaml_config_writes_it_is_random_initialisation_for_every_network(word):
    """``network: {name: unet, weights: none}`` (no encoder) was refused as 'needs a pretrained
    encoder', though random initialisation is what it asks for."""
    import torch

    unet = create_network("unet", num_classes=2, encoder_depth=2, num_first_encoder_filters=4, weights=word)
    assert unet(torch.rand(1, 3, 16, 16)).shape == (1, 2, 16, 16)
    deeplab = create_network("deeplabv3plus", num_classes=2, weights=word)
    assert deeplab.num_classes == 2
