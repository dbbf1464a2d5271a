"""FCN-32s/16s/8s (Long, Shelhamer & Darrell, "Fully Convolutional Networks for Semantic
Segmentation", CVPR 2015), as MATLAB's ``fcnLayers`` builds it on VGG-16.

VGG-16 convolutions -> fc6 (7x7 conv, 4096, ReLU, dropout 0.5) -> fc7 (1x1 conv, 4096, ReLU,
dropout 0.5) -> score (1x1 conv, K). FCN-16s adds a 1x1 score of pool4 (zero-initialised) to
the x2-upsampled scores (transposed convolution initialised to bilinear interpolation, learned);
FCN-8s adds pool3 the same way. The final x32 / x16 / x8 upsampling is fixed bilinear
interpolation, as in the paper. Differences from the Caffe model: fc6 uses "same" padding and
the input is padded to a multiple of 32 (instead of padding 100 and cropping), so the
alignment is exact for any size. A torchvision VGG-16 checkpoint also initialises fc6/fc7
from its classifier (``classifier.0`` / ``classifier.3`` reshaped to convolutions), the
paper's "convolutionalization".
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.errors import ConfigurationError
from pixelseg.models.base import SegmentationNetwork, check_common, require_num_classes
from pixelseg.models.encoders import create_encoder, load_weights
from pixelseg.models.layers import he_init
from pixelseg.models.registry import register_network

TYPES = {"32s": 32, "16s": 16, "8s": 8}
FC_CHANNELS = 4096  # width of fc6/fc7 (the VGG-16 classifier); tests narrow it


def bilinear_kernel(channels: int, factor: int) -> torch.Tensor:
    """Weight channels x channels x 2f x 2f of a transposed convolution (stride f, padding
    f/2) that upsamples each channel bilinearly by f (diagonal; zero across channels)."""
    size = 2 * factor
    center = (size - 1) / 2
    coords = torch.arange(size, dtype=torch.float32)
    filt1d = 1 - (coords - center).abs() / factor
    kernel = filt1d[:, None] * filt1d[None, :]
    weight = torch.zeros(channels, channels, size, size)
    weight[range(channels), range(channels)] = kernel
    return weight


class FCN(SegmentationNetwork):
    """FCN on VGG-16; the arguments are those of ``fcn(...)``, which documents them."""

    name = "fcn"

    def __init__(self, image_size=None, num_classes: int | None = None, type: str = "8s",  # noqa: A002
                 weights: str | Path | None = None, in_channels: int = 3):
        require_num_classes(num_classes)
        if type not in TYPES:
            raise ConfigurationError(f"type={type!r} is not allowed: use one of {list(TYPES)}")
        size = check_common(num_classes, in_channels, image_size)
        encoder = create_encoder("vgg16", in_channels, depth=5)
        super().__init__(num_classes, in_channels, stride=32, mean=encoder.mean, std=encoder.std, image_size=size)
        self.encoder = encoder
        self.fcn_type = type
        # fc6/fc7 (119 M weights) keep PyTorch's default init: a second init costs seconds
        self.fc6 = nn.Conv2d(512, FC_CHANNELS, 7, padding=3)
        self.fc7 = nn.Conv2d(FC_CHANNELS, FC_CHANNELS, 1)
        self.dropout = nn.Dropout(0.5)
        self.score_fr = nn.Conv2d(FC_CHANNELS, num_classes, 1)
        he_init(self.score_fr)
        k = num_classes
        if type in ("16s", "8s"):
            self.score_pool4 = nn.Conv2d(512, k, 1)
            self.upscore2 = nn.ConvTranspose2d(k, k, 4, stride=2, padding=1, bias=False)
        if type == "8s":
            self.score_pool3 = nn.Conv2d(256, k, 1)
            self.upscore_pool4 = nn.ConvTranspose2d(k, k, 4, stride=2, padding=1, bias=False)
        for name, module in self.named_children():
            if name.startswith("score_pool"):
                nn.init.zeros_(module.weight)
                nn.init.zeros_(module.bias)
            elif name.startswith("upscore"):
                module.weight.data.copy_(bilinear_kernel(k, 2))
        self.load_classifier(load_weights(self.encoder, weights), str(weights))

    def load_classifier(self, head: dict[str, torch.Tensor], source: str) -> None:
        """fc6/fc7 from a torchvision VGG-16 classifier (Linear 25088->4096, 4096->4096)."""
        pairs = (("classifier.0", self.fc6), ("classifier.3", self.fc7))
        for key, conv in pairs:
            if f"{key}.weight" not in head:
                continue
            weight = head[f"{key}.weight"]
            if weight.numel() != conv.weight.numel():
                raise ConfigurationError(
                    f"weights={source!r}: {key}.weight has shape {tuple(weight.shape)}; FCN needs "
                    f"{tuple(conv.weight.shape[:2])} for a VGG-16 classifier"
                )
            with torch.no_grad():
                conv.weight.copy_(weight.reshape(conv.weight.shape))
                conv.bias.copy_(head[f"{key}.bias"])

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        pool3, pool4, pool5 = self.encoder(x)[2:]
        y = self.dropout(F.relu(self.fc6(pool5), inplace=True))
        y = self.dropout(F.relu(self.fc7(y), inplace=True))
        y = self.score_fr(y)
        if self.fcn_type in ("16s", "8s"):
            y = self.upscore2(y) + self.score_pool4(pool4)
        if self.fcn_type == "8s":
            y = self.upscore_pool4(y) + self.score_pool3(pool3)
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


@register_network("fcn")
def fcn(image_size=None, num_classes: int | None = None, type: str = "8s",  # noqa: A002 - MATLAB's name
        weights: str | Path | None = None, in_channels: int = 3) -> FCN:
    """FCN on VGG-16 (Long et al., CVPR 2015; MATLAB ``fcnLayers``).

    Args:
        image_size: None, (H, W) or (H, W, C); only validated and recorded (any size >= 1 works;
            the input is padded to a multiple of 32).
        num_classes: K >= 1 (at most 255).
        type: "8s", "16s" or "32s" (the stride of the coarsest skip connection).
        weights: None or the path of a torchvision VGG-16 checkpoint (vgg16-397923af.pth);
            its classifier initialises fc6/fc7.
        in_channels: input channels C.

    Returns:
        FCN: x N x C x H x W float32 in [0, 1] -> logits N x K x H x W (134 M parameters).

    Raises:
        ConfigurationError: an argument outside the allowed values (named in the message).
        DataError: a weights file that is missing or unreadable.
    """
    return FCN(image_size=image_size, num_classes=num_classes, type=type, weights=weights, in_channels=in_channels)
