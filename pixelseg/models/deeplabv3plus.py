"""DeepLab v3+ (Chen et al., "Encoder-Decoder with Atrous Separable Convolution for Semantic
Image Segmentation", ECCV 2018), as MATLAB's ``deeplabv3plus`` offers it.

Encoder with output stride 16 or 8 (atrous last stages) -> ASPP (1x1, three 3x3 atrous
separable convolutions at rates 6/12/18 for stride 16, 12/24/36 for stride 8, image pooling;
256 channels each; 1x1 projection, dropout 0.1) -> bilinear upsampling x4 -> concatenation
with the stride-4 features reduced to 48 channels -> two 3x3 separable conv-BN-ReLU (256) ->
1x1 classifier -> bilinear upsampling to the input size. Separable convolutions as in the
paper (and segmentation_models.pytorch); a dense 3x3 decoder at stride 4 would cost ~9x more.

The image-pooling branch has no BatchNorm (conv with bias + ReLU), so that a batch of one
image trains (torchvision's version fails there).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.errors import ConfigurationError
from pixelseg.models.base import SegmentationNetwork, check_common
from pixelseg.models.encoders import create_encoder, load_weights
from pixelseg.models.layers import ConvBNReLU, SeparableConvBNReLU, he_init
from pixelseg.models.registry import register_network

BACKBONES = ("resnet18", "resnet50", "efficientnet_lite0")
ASPP_RATES = {16: (6, 12, 18), 8: (12, 24, 36)}


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: N x C x h x w -> N x ``channels`` x h x w."""

    def __init__(self, in_channels: int, channels: int, rates: tuple[int, ...], dropout: float = 0.1):
        super().__init__()
        self.branches = nn.ModuleList(
            [ConvBNReLU(in_channels, channels, 1)]
            + [SeparableConvBNReLU(in_channels, channels, 3, dilation=r) for r in rates]
        )
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, channels, 1), nn.ReLU(inplace=True))
        self.project = nn.Sequential(ConvBNReLU((len(rates) + 2) * channels, channels, 1), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        outs.append(self.pool(x).expand(-1, -1, x.shape[2], x.shape[3]))
        return self.project(torch.cat(outs, dim=1))


class DeepLabV3Plus(SegmentationNetwork):
    """DeepLab v3+; the arguments are those of ``deeplabv3plus(...)``, which documents them."""

    name = "deeplabv3plus"

    def __init__(self, image_size=None, num_classes: int | None = None, backbone: str = "resnet18",
                 downsampling_factor: int = 16, weights: str | Path | None = None, in_channels: int = 3):
        size = check_common(num_classes, in_channels, image_size)
        if downsampling_factor not in ASPP_RATES:
            raise ConfigurationError(
                f"downsampling_factor={downsampling_factor!r} is not allowed: "
                f"use one of {sorted(ASPP_RATES, reverse=True)}"
            )
        encoder = create_encoder(backbone, in_channels, depth=5, output_stride=downsampling_factor,
                                 argument="backbone", allowed=BACKBONES)
        super().__init__(num_classes, in_channels, stride=encoder.required_multiple,
                         mean=encoder.mean, std=encoder.std, image_size=size)
        self.encoder = encoder
        self.aspp = ASPP(encoder.out_channels[-1], 256, ASPP_RATES[downsampling_factor])
        self.low_level = ConvBNReLU(encoder.out_channels[1], 48, 1)
        self.fuse = nn.Sequential(SeparableConvBNReLU(256 + 48, 256, 3), SeparableConvBNReLU(256, 256, 3))
        self.classifier = nn.Conv2d(256, num_classes, 1)
        he_init(nn.ModuleList([self.aspp, self.low_level, self.fuse, self.classifier]))
        load_weights(self.encoder, weights)

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        features = self.encoder(x)
        low = self.low_level(features[1])
        high = F.interpolate(self.aspp(features[-1]), size=low.shape[-2:], mode="bilinear", align_corners=False)
        logits = self.classifier(self.fuse(torch.cat([high, low], dim=1)))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


@register_network("deeplabv3plus")
def deeplabv3plus(image_size=None, num_classes: int | None = None, backbone: str = "resnet18",
                  downsampling_factor: int = 16, weights: str | Path | None = None,
                  in_channels: int = 3) -> DeepLabV3Plus:
    """DeepLab v3+ (Chen et al., ECCV 2018; MATLAB ``deeplabv3plus``).

    Args:
        image_size: None, (H, W) or (H, W, C); only validated and recorded (any size >= 1 works).
        num_classes: K >= 1 (at most 255).
        backbone: "resnet18", "resnet50" or "efficientnet_lite0".
        downsampling_factor: encoder output stride, 16 or 8 (8 is finer and ~3x slower).
        weights: None (random), "imagenet" (efficientnet_lite0 only: bundled weights) or the
            path of a torchvision checkpoint of the backbone (e.g. resnet18-f37072fd.pth).
        in_channels: input channels C (pretrained first layer adapted when C != 3).

    Returns:
        DeepLabV3Plus: x N x C x H x W float32 in [0, 1] -> logits N x K x H x W.

    Raises:
        ConfigurationError: an argument outside the allowed values (named in the message).
        DataError: a weights file that is missing or unreadable.
    """
    return DeepLabV3Plus(image_size=image_size, num_classes=num_classes, backbone=backbone,
                         downsampling_factor=downsampling_factor, weights=weights, in_channels=in_channels)
