"""U-Net (Ronneberger et al., MICCAI 2015), as MATLAB's ``unet`` / ``unetLayers`` build it, and
U-Net decoders on pretrained encoders.

Classic (``encoder=None``): ``encoder_depth`` levels of two 3x3 conv-BN-ReLU with
``num_first_encoder_filters * 2**level`` filters and 2x2 max pooling, a bridge with twice the
filters, and a mirrored decoder (2x2 transposed convolution, concatenation with the skip
connection, two 3x3 conv-BN-ReLU), then a 1x1 classifier. Convolutions use "same" padding
(as MATLAB's default) and BatchNorm (not in the 2015 paper), so the output has the input size.

On a pretrained encoder (``encoder="resnet18"`` ...): the encoder's features at strides
2 .. 2**encoder_depth feed decoder blocks (nearest x2 upsampling, concatenation with the
features of the same stride, two 3x3 conv-BN-ReLU) with 16 x stride channels clamped to
16..256 (256, 128, 64, 32, 16 for depth 5), then a 1x1 classifier at full resolution.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.errors import ConfigurationError
from pixelseg.models.base import SegmentationNetwork, check_common
from pixelseg.models.encoders import ENCODERS, create_encoder, load_weights
from pixelseg.models.encoders.base import check_int
from pixelseg.models.layers import IMAGENET_MEAN, IMAGENET_STD, ConvBNReLU, he_init
from pixelseg.models.registry import register_network

MAX_CLASSIC_DEPTH = 7


def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU."""
    return nn.Sequential(ConvBNReLU(in_channels, out_channels, 3), ConvBNReLU(out_channels, out_channels, 3))


class ClassicUNetEncoder(nn.Module):
    """Contracting path: returns the skip features (strides 1 .. 2**(depth-1)) and the bridge."""

    def __init__(self, in_channels: int, depth: int, filters: int):
        super().__init__()
        widths = [filters * 2**i for i in range(depth + 1)]
        inputs = [in_channels] + widths[:-2]
        self.stages = nn.ModuleList(double_conv(c_in, c_out) for c_in, c_out in zip(inputs, widths[:-1]))
        self.pool = nn.MaxPool2d(2)
        self.bridge = double_conv(widths[-2], widths[-1])
        self.widths = widths

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
            x = self.pool(x)
        return skips, self.bridge(x)


def decoder_width(stride: int) -> int:
    """Channels of the U-Net decoder block whose output has ``stride``: 16 x stride in 16..256."""
    return max(16, min(256, 16 * stride))


class UNet(SegmentationNetwork):
    """U-Net: the classic one from scratch (``encoder=None``) or a U-Net decoder on a pretrained
    encoder; the arguments are those of ``unet(...)``, which documents them."""

    name = "unet"

    def __init__(self, image_size=None, num_classes: int | None = None, encoder: str | None = None,
                 encoder_depth: int = 4, num_first_encoder_filters: int | None = None,
                 weights: str | Path | None = None, in_channels: int = 3):
        size = check_common(num_classes, in_channels, image_size)
        if encoder is None:
            filters = _check_classic(encoder_depth, num_first_encoder_filters, weights)
            super().__init__(num_classes, in_channels, stride=2**encoder_depth, mean=IMAGENET_MEAN,
                             std=IMAGENET_STD, image_size=size)
            self.classic = True
            self._build_classic(in_channels, encoder_depth, filters)
            return
        if num_first_encoder_filters is not None:
            raise ConfigurationError(
                f"num_first_encoder_filters={num_first_encoder_filters!r} applies only to the classic U-Net "
                f"(encoder=None); the {encoder!r} encoder has fixed widths"
            )
        backbone = create_encoder(encoder, in_channels, depth=encoder_depth)
        super().__init__(num_classes, in_channels, stride=backbone.required_multiple, mean=backbone.mean,
                         std=backbone.std, image_size=size)
        self.classic = False
        self._build_on_encoder(backbone)
        load_weights(self.encoder, weights)

    def _build_classic(self, in_channels: int, depth: int, filters: int) -> None:
        self.encoder = ClassicUNetEncoder(in_channels, depth, filters)
        widths = self.encoder.widths
        levels = list(reversed(range(depth)))
        self.up = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in levels)
        self.decoder = nn.ModuleList(double_conv(2 * widths[i], widths[i]) for i in levels)
        self.classifier = nn.Conv2d(widths[0], self.num_classes, 1)
        he_init(self)

    def _build_on_encoder(self, encoder: nn.Module) -> None:
        self.encoder = encoder
        channels = encoder.out_channels
        blocks = []
        c_in = channels[-1]
        for level in reversed(range(len(channels))):  # output stride 2**level
            skip = channels[level - 1] if level >= 1 else 0
            c_out = decoder_width(2**level)
            blocks.append(double_conv(c_in + skip, c_out))
            c_in = c_out
        self.decoder = nn.ModuleList(blocks)
        self.classifier = nn.Conv2d(c_in, self.num_classes, 1)
        he_init(nn.ModuleList([self.decoder, self.classifier]))

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        if self.classic:
            skips, y = self.encoder(x)
            for up, block, skip in zip(self.up, self.decoder, reversed(skips)):
                y = block(torch.cat([up(y), skip], dim=1))
            return self.classifier(y)
        features = self.encoder(x)
        y = features[-1]
        skips = [None] + features[:-1]  # skip for output stride 2**level is features[level - 1]
        for block, skip in zip(self.decoder, reversed(skips)):
            y = F.interpolate(y, scale_factor=2.0, mode="nearest")
            y = block(y if skip is None else torch.cat([y, skip], dim=1))
        return self.classifier(y)


def _check_classic(encoder_depth, num_first_encoder_filters, weights) -> int:
    """Validate the arguments of the classic U-Net; returns the filters of its first level."""
    if weights is not None:
        raise ConfigurationError(
            f"weights={weights!r} needs a pretrained encoder: the classic U-Net (encoder=None) starts "
            f"from random weights; pass encoder= one of {list(ENCODERS)}"
        )
    depth_ok = isinstance(encoder_depth, int) and not isinstance(encoder_depth, bool)
    if not depth_ok or not 1 <= encoder_depth <= MAX_CLASSIC_DEPTH:
        raise ConfigurationError(f"encoder_depth={encoder_depth!r} is not allowed: use 1..{MAX_CLASSIC_DEPTH}")
    filters = 64 if num_first_encoder_filters is None else num_first_encoder_filters
    check_int("num_first_encoder_filters", filters, minimum=1)
    return filters


@register_network("unet")
def unet(image_size=None, num_classes: int | None = None, encoder: str | None = None, encoder_depth: int = 4,
         num_first_encoder_filters: int | None = None, weights: str | Path | None = None,
         in_channels: int = 3) -> UNet:
    """U-Net (Ronneberger et al., MICCAI 2015; MATLAB ``unet`` / ``unetLayers``).

    Args:
        image_size: None, (H, W) or (H, W, C); only validated and recorded (any size >= 1 works).
        num_classes: K >= 1 (at most 255).
        encoder: None for the classic U-Net from scratch, or a pretrained encoder: "vgg16",
            "vgg16_bn", "resnet18", "resnet50", "efficientnet_lite0".
        encoder_depth: number of 2x downsamplings, 1..7 for the classic U-Net, 1..5 with an
            encoder. The input is padded to a multiple of 2**encoder_depth.
        num_first_encoder_filters: filters of the first level of the classic U-Net (default
            64, doubled at each level); only for ``encoder=None``.
        weights: with an encoder: None, "imagenet" (efficientnet_lite0) or a torchvision
            checkpoint path; must be None for the classic U-Net.
        in_channels: input channels C.

    Returns:
        UNet: x N x C x H x W float32 in [0, 1] -> logits N x K x H x W.

    Raises:
        ConfigurationError: an argument outside the allowed values (named in the message).
        DataError: a weights file that is missing or unreadable.
    """
    return UNet(image_size=image_size, num_classes=num_classes, encoder=encoder, encoder_depth=encoder_depth,
                num_first_encoder_filters=num_first_encoder_filters, weights=weights, in_channels=in_channels)
