"""VGG-16 encoders (Simonyan & Zisserman, ICLR 2015), with and without batch normalisation,
in plain PyTorch with torchvision's module names (``features.N``), so that torchvision
checkpoints (vgg16-397923af.pth, vgg16_bn-6c64b313.pth) load by key name.

The 13 convolutions form 5 stages (2, 2, 3, 3, 3 convolutions of 64, 128, 256, 512, 512
filters), each followed by 2x2 max pooling. ``stage(i, x)`` runs the convolutions of stage i
without its pooling, for SegNet, which pools with indices.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.models.encoders.base import Encoder
from pixelseg.models.layers import he_init

VGG16_STAGES = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


class _VGG16Encoder(Encoder):
    """VGG-16 features after each pooling: strides 2..32 with 64, 128, 256, 512, 512 channels."""

    batch_norm: ClassVar[bool] = False
    stage_channels: ClassVar[tuple[int, ...]] = (64, 128, 256, 512, 512)
    first_conv_key: ClassVar[str] = "features.0.weight"
    head_keys: ClassVar[tuple[str, ...]] = tuple(f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias"))

    def __init__(self, in_channels: int = 3, depth: int = 5, output_stride: int = 32):
        super().__init__(in_channels, depth, output_stride)
        layers: list[nn.Module] = []
        self._stage_ranges: list[tuple[int, int]] = []
        channels = in_channels
        for widths in VGG16_STAGES[:depth]:
            start = len(layers)
            for width in widths:
                layers.append(nn.Conv2d(channels, width, 3, padding=1))
                if self.batch_norm:
                    layers.append(nn.BatchNorm2d(width))
                layers.append(nn.ReLU(inplace=True))
                channels = width
            self._stage_ranges.append((start, len(layers)))
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        he_init(self)

    @property
    def stage_convs(self) -> list[list[int]]:
        """Output channels of each convolution, per stage (for SegNet's mirrored decoder)."""
        return [list(w) for w in VGG16_STAGES[: self.depth]]

    def stage(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Convolutions (with BN, ReLU) of stage i, without its pooling; same H x W as x."""
        start, end = self._stage_ranges[i]
        for j in range(start, end):
            x = self.features[j](x)
        return x

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for i in range(self.depth):
            x = F.max_pool2d(self.stage(i, x), 2, 2)
            features.append(x)
        return features


class VGG16Encoder(_VGG16Encoder):
    """VGG-16 (configuration D), 14.7 M parameters at depth 5."""

    name: ClassVar[str] = "vgg16"


class VGG16BNEncoder(_VGG16Encoder):
    """VGG-16 with batch normalisation after every convolution (torchvision ``vgg16_bn``)."""

    name: ClassVar[str] = "vgg16_bn"
    batch_norm: ClassVar[bool] = True
