"""Pretrained checkpoints in torchvision format: key mapping, errors, in_channels adaptation.

The checkpoints are written here from the encoders' own key maps (plus the classifier keys
torchvision has), the same key names and shapes as vgg16-397923af.pth & co.
"""

from __future__ import annotations

import pytest
import torch

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.models import deeplabv3plus, fcn, segnet, unet
from pixelseg.models.encoders import ENCODERS, adapt_first_conv

from .conftest import fcn_module

RESNET18_HEAD = {"fc.weight": (1000, 512), "fc.bias": (1000,)}  # torchvision's classifier keys


def fake_checkpoint(name: str, head: dict | None = None, old_format: bool = False) -> dict[str, torch.Tensor]:
    """A full-architecture RGB checkpoint with random values, torchvision key names."""
    torch.manual_seed(1)
    state = {k: torch.randn(v.shape) if v.is_floating_point() else v
             for k, v in ENCODERS[name](in_channels=3, depth=5).state_dict().items()}
    if old_format:  # saved by torch < 0.4.1
        state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    for key, shape in (head or {}).items():
        state[key] = torch.randn(shape) * 0.01
    return state


def save(state, tmp_path, name="ckpt.pth"):
    path = tmp_path / name
    torch.save(state, path)
    return path


def test_resnet18_checkpoint_loads_by_key_name(tmp_path):
    state = fake_checkpoint("resnet18", RESNET18_HEAD)
    net = deeplabv3plus(num_classes=3, backbone="resnet18", weights=save(state, tmp_path))  # depth 5
    own = net.encoder.state_dict()
    assert torch.equal(own["layer4.1.conv2.weight"], state["layer4.1.conv2.weight"])
    assert torch.equal(own["layer2.0.downsample.1.running_var"], state["layer2.0.downsample.1.running_var"])
    assert torch.equal(own["conv1.weight"], state["conv1.weight"])


def test_shallow_encoder_takes_the_stages_it_has(tmp_path):
    state = fake_checkpoint("vgg16_bn", old_format=True)  # and no num_batches_tracked
    net = segnet(num_classes=2, encoder="vgg16_bn", encoder_depth=2, weights=save(state, tmp_path))
    assert torch.equal(net.encoder.features[7].weight, state["features.7.weight"])
    assert "features.14.weight" not in net.encoder.state_dict()


def test_missing_key_is_named(tmp_path):
    state = fake_checkpoint("resnet18")
    del state["layer3.0.bn2.running_mean"]
    with pytest.raises(ConfigurationError, match=r"missing keys layer3\.0\.bn2\.running_mean"):
        unet(num_classes=2, encoder="resnet18", encoder_depth=1, weights=save(state, tmp_path))


def test_unexpected_key_is_named(tmp_path):
    state = fake_checkpoint("resnet18")
    state["layer5.0.conv1.weight"] = torch.zeros(1)
    with pytest.raises(ConfigurationError, match=r"unexpected keys layer5\.0\.conv1\.weight"):
        unet(num_classes=2, encoder="resnet18", encoder_depth=1, weights=save(state, tmp_path))


def test_checkpoint_of_another_architecture(tmp_path):
    path = save(fake_checkpoint("resnet18"), tmp_path)
    with pytest.raises(ConfigurationError, match="not a checkpoint of the vgg16 architecture"):
        segnet(num_classes=2, encoder_depth=1, weights=path)


def test_wrong_shape_is_named(tmp_path):
    state = fake_checkpoint("resnet18")
    state["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    expected = r"layer1\.0\.conv1\.weight \(64, 64, 1, 1\) \(expected \(64, 64, 3, 3\)\)"
    with pytest.raises(ConfigurationError, match=expected):
        unet(num_classes=2, encoder="resnet18", encoder_depth=1, weights=save(state, tmp_path))


def test_missing_or_unreadable_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        unet(num_classes=2, encoder="resnet18", encoder_depth=1, weights=tmp_path / "nope.pth")
    (tmp_path / "bad.pth").write_text("not a checkpoint")
    with pytest.raises(DataError, match="bad.pth"):
        unet(num_classes=2, encoder="resnet18", encoder_depth=1, weights=tmp_path / "bad.pth")


def test_fcn_convolutionalizes_the_vgg16_classifier(tmp_path, monkeypatch):
    monkeypatch.setattr(fcn_module, "FC_CHANNELS", 64)  # classifier.0: 64 x 25088 = 64 x 512 x 7 x 7
    head = {"classifier.0.weight": (64, 25088), "classifier.0.bias": (64,),
            "classifier.3.weight": (64, 64), "classifier.3.bias": (64,)}
    state = fake_checkpoint("vgg16", head)
    net = fcn(num_classes=2, type="32s", weights=save(state, tmp_path))
    assert torch.equal(net.fc6.weight, state["classifier.0.weight"].view(64, 512, 7, 7))
    assert torch.equal(net.fc7.weight[:, :, 0, 0], state["classifier.3.weight"])
    assert torch.equal(net.fc6.bias, state["classifier.0.bias"])


@pytest.mark.parametrize("in_channels", [1, 4])
def test_first_layer_adapted_for_other_channel_counts(tmp_path, in_channels):
    state = fake_checkpoint("resnet18")
    net = unet(num_classes=2, encoder="resnet18", encoder_depth=1, in_channels=in_channels,
               weights=save(state, tmp_path))
    rgb = state["conv1.weight"]
    expected = rgb.mean(1, keepdim=True).repeat(1, in_channels, 1, 1) * 3 / in_channels
    assert torch.allclose(net.encoder.conv1.weight, expected)
    assert net(torch.rand(1, in_channels, 9, 9)).shape == (1, 2, 9, 9)


def test_adapted_first_layer_responds_to_grey_as_rgb_does():
    weight = torch.randn(8, 3, 3, 3)
    grey = torch.rand(1, 1, 6, 6)
    rgb_response = torch.nn.functional.conv2d(grey.expand(1, 3, 6, 6), weight.mean(1, keepdim=True).expand(8, 3, 3, 3))
    for channels in (1, 2, 5):
        response = torch.nn.functional.conv2d(grey.expand(1, channels, 6, 6), adapt_first_conv(weight, channels))
        assert torch.allclose(response, rgb_response, atol=1e-5)
    assert adapt_first_conv(weight, 3) is weight
