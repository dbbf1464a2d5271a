"""SegNet (Badrinarayanan, Kendall & Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder
Architecture for Image Segmentation", TPAMI 2017), as MATLAB's ``segnetLayers`` builds it on
VGG-16.

Encoder: the 13 convolutions of VGG-16 in 5 stages (``encoder_depth`` of them), each stage
ending in 2x2 max pooling that keeps its indices. Decoder: the mirror image; each stage
max-unpools with the indices of its encoder stage (no learned upsampling, no skip tensors),
then applies as many 3x3 conv-BN-ReLU as the encoder stage has convolutions, the last one
reducing to the width of the next stage. The final convolution (64 -> K, 3x3, no BN/ReLU)
gives the class scores, as ``conv1_1_D`` of the authors' Caffe model.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.models.base import SegmentationNetwork, check_common
from pixelseg.models.encoders import create_encoder, load_weights
from pixelseg.models.layers import ConvBNReLU, he_init
from pixelseg.models.registry import register_network

ENCODERS = ("vgg16", "vgg16_bn")


class SegNet(SegmentationNetwork):
    """SegNet on VGG-16; the arguments are those of ``segnet(...)``, which documents them."""

    name = "segnet"

    def __init__(self, image_size=None, num_classes: int | None = None, encoder: str = "vgg16",
                 encoder_depth: int = 5, weights: str | Path | None = None, in_channels: int = 3):
        size = check_common(num_classes, in_channels, image_size)
        backbone = create_encoder(encoder, in_channels, depth=encoder_depth, allowed=ENCODERS)
        super().__init__(num_classes, in_channels, stride=backbone.required_multiple,
                         mean=backbone.mean, std=backbone.std, image_size=size)
        self.encoder = backbone
        stages = backbone.stage_convs
        decoder = []
        for i in reversed(range(len(stages))):
            widths = stages[i]
            next_width = stages[i - 1][-1] if i > 0 else widths[0]
            convs = [ConvBNReLU(widths[-1], w) for w in widths[:-1]]
            if i > 0:
                convs.append(ConvBNReLU(widths[-1], next_width))
            decoder.append(nn.Sequential(*convs))
        self.decoder = nn.ModuleList(decoder)
        self.classifier = nn.Conv2d(stages[0][0], num_classes, 3, padding=1)
        he_init(nn.ModuleList([self.decoder, self.classifier]))
        load_weights(self.encoder, weights)

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        indices = []
        for i in range(self.encoder.depth):
            x, idx = F.max_pool2d(self.encoder.stage(i, x), 2, 2, return_indices=True)
            indices.append(idx)
        for block, idx in zip(self.decoder, reversed(indices)):
            x = block(F.max_unpool2d(x, idx, 2, 2))
        return self.classifier(x)


@register_network("segnet")
def segnet(image_size=None, num_classes: int | None = None, encoder: str = "vgg16", encoder_depth: int = 5,
           weights: str | Path | None = None, in_channels: int = 3) -> SegNet:
    """SegNet (Badrinarayanan et al., TPAMI 2017; MATLAB ``segnetLayers``).

    Args:
        image_size: None, (H, W) or (H, W, C); only validated and recorded (any size >= 1 works;
            the input is padded to a multiple of 2**encoder_depth).
        num_classes: K >= 1 (at most 255).
        encoder: "vgg16" (torchvision VGG-16, no BN in the encoder) or "vgg16_bn" (BN after
            every encoder convolution, as in the paper).
        encoder_depth: number of VGG-16 stages used, 1..5.
        weights: None or the path of a torchvision checkpoint of the encoder
            (vgg16-397923af.pth, vgg16_bn-6c64b313.pth).
        in_channels: input channels C.

    Returns:
        SegNet: x N x C x H x W float32 in [0, 1] -> logits N x K x H x W.

    Raises:
        ConfigurationError: an argument outside the allowed values (named in the message).
        DataError: a weights file that is missing or unreadable.
    """
    return SegNet(image_size=image_size, num_classes=num_classes, encoder=encoder, encoder_depth=encoder_depth,
                  weights=weights, in_channels=in_channels)
