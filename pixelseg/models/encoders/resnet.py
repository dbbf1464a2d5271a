"""ResNet-18 and ResNet-50 encoders (He et al., "Deep Residual Learning for Image
Recognition", CVPR 2016) in plain PyTorch, with torchvision's module names so that torchvision
checkpoints (resnet18-f37072fd.pth, resnet50-0676ba61.pth, resnet50-11ad3fa6.pth, ...) load by
key name. ResNet-50 is the torchvision "v1.5" variant (stride on the 3x3 convolution).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from pixelseg.models.encoders.base import Encoder
from pixelseg.models.layers import he_init


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN with identity (or 1x1 projection) shortcut; torchvision names."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = _conv3x3(in_channels, channels, stride, dilation)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(channels, channels, 1, dilation)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided, dilated), 1x1 expand (x4), each with BN; torchvision names."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = _conv3x3(channels, channels, stride, dilation)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, channels * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + identity)


class _ResNetEncoder(Encoder):
    """ResNet features: stride 2 (conv1-bn1-relu), 4 (maxpool + layer1), 8, 16, 32 (layer2..4).

    ``output_stride`` 16 or 8 replaces the stride of layer4 (and layer3) by dilation 2 (4), as
    torchvision's ``replace_stride_with_dilation`` (the first block of a dilated layer keeps the
    previous dilation).
    """

    block: ClassVar[type[nn.Module]] = BasicBlock
    layers: ClassVar[tuple[int, ...]] = (2, 2, 2, 2)
    first_conv_key: ClassVar[str] = "conv1.weight"
    head_keys: ClassVar[tuple[str, ...]] = ("fc.weight", "fc.bias")
    output_strides: ClassVar[tuple[int, ...]] = (32, 16, 8)

    def __init__(self, in_channels: int = 3, depth: int = 5, output_stride: int = 32):
        super().__init__(in_channels, depth, output_stride)
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels, stride_so_far, dilation = 64, 4, 1
        for i, (width, blocks) in enumerate(zip((64, 128, 256, 512), self.layers)):
            if i + 2 > depth:
                break
            stride = 1 if i == 0 else 2
            previous = dilation
            if stride == 2 and stride_so_far >= output_stride:
                dilation, stride = dilation * 2, 1
            stride_so_far *= stride
            out = width * self.block.expansion
            downsample = None
            if stride != 1 or channels != out:
                downsample = nn.Sequential(nn.Conv2d(channels, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
            layer = [self.block(channels, width, stride, previous, downsample)]
            layer += [self.block(out, width, 1, dilation) for _ in range(1, blocks)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
            channels = out
        he_init(self)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.relu(self.bn1(self.conv1(x)))
        features = [x]
        if self.depth >= 2:
            x = self.maxpool(x)
        for i in range(1, self.depth):
            x = getattr(self, f"layer{i}")(x)
            features.append(x)
        return features


class ResNet18Encoder(_ResNetEncoder):
    """ResNet-18 features with 64, 64, 128, 256, 512 channels (11.2 M parameters at depth 5)."""

    name: ClassVar[str] = "resnet18"
    stage_channels: ClassVar[tuple[int, ...]] = (64, 64, 128, 256, 512)
    block = BasicBlock
    layers = (2, 2, 2, 2)


class ResNet50Encoder(_ResNetEncoder):
    """ResNet-50 features with 64, 256, 512, 1024, 2048 channels (23.5 M parameters at depth 5)."""

    name: ClassVar[str] = "resnet50"
    stage_channels: ClassVar[tuple[int, ...]] = (64, 256, 512, 1024, 2048)
    block = Bottleneck
    layers = (3, 4, 6, 3)
