"""Small building blocks shared by the networks: input normalisation and conv-BN-ReLU.

Every block works on float32 tensors N x C x H x W in either memory format (contiguous or
``torch.channels_last``) and exports to ONNX without TorchScript.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _per_channel(values: Sequence[float], in_channels: int) -> torch.Tensor:
    """Statistics for ``in_channels`` channels: the RGB values, or their mean repeated."""
    values = torch.tensor(values, dtype=torch.float32)
    if in_channels != values.numel():
        values = values.mean().repeat(in_channels)
    return values.view(1, in_channels, 1, 1)


class InputNormalization(nn.Module):
    """``(x - mean) / std`` with ``mean`` and ``std`` registered as buffers.

    Input: N x C x H x W float32 with values in [0, 1] (uint8 / 255). Output: same shape,
    normalised the way the encoder's pretrained weights expect. For ``in_channels`` other than
    the number of statistics given (3 for RGB), the mean of the RGB statistics is used for
    every channel.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], in_channels: int = 3):
        super().__init__()
        self.register_buffer("mean", _per_channel(mean, in_channels))
        self.register_buffer("inv_std", 1.0 / _per_channel(std, in_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) * self.inv_std


class ConvBNReLU(nn.Sequential):
    """Conv2d (no bias) -> BatchNorm2d -> ReLU, with "same" padding for odd kernels."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, dilation: int = 1):
        padding = dilation * (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class SeparableConvBNReLU(nn.Sequential):
    """Depthwise k x k conv (dilated) -> pointwise 1x1 conv -> BatchNorm2d -> ReLU (no biases).

    The "atrous separable convolution" of DeepLab v3+ (Chen et al., ECCV 2018): about k*k
    times fewer multiply-adds than a dense k x k convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, dilation: int = 1):
        padding = dilation * (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(in_channels, in_channels, kernel_size, padding=padding, dilation=dilation,
                      groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


def he_init(module: nn.Module) -> None:
    """He initialisation (He et al., ICCV 2015; normal, fan-out, ReLU gain) of every convolution,
    unit/zero BatchNorm, zero biases.

    The fan-out of a grouped convolution counts only the outputs of one group
    (out_channels / groups x k x k), as TensorFlow does for depthwise kernels; PyTorch's
    ``kaiming_normal_`` would use out_channels x k x k, which makes a depthwise convolution
    shrink activations by ~sqrt(channels) and, stacked 16 times (EfficientNet), vanish.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            receptive = m.weight[0, 0].numel()
            fan_out = m.out_channels // m.groups * receptive
            nn.init.normal_(m.weight, 0.0, (2.0 / fan_out) ** 0.5)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
