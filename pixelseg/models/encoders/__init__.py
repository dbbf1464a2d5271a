"""Encoders (feature extractors) with multi-scale outputs; see ``Encoder``.

Public names: the :class:`Encoder` base, one class per backbone, ``ENCODERS`` (name ->
class), ``create_encoder(name, ...)``, and the weight helpers ``load_weights`` (a local
torchvision-format checkpoint, or the bundled ImageNet weights) and ``adapt_first_conv``.
"""

from __future__ import annotations

from pixelseg.models.encoders.base import Encoder, adapt_first_conv, load_weights
from pixelseg.models.encoders.efficientnet_lite0 import EfficientNetLite0Encoder
from pixelseg.models.encoders.registry import ENCODERS, create_encoder
from pixelseg.models.encoders.resnet import ResNet18Encoder, ResNet50Encoder
from pixelseg.models.encoders.vgg import VGG16BNEncoder, VGG16Encoder

__all__ = ["ENCODERS", "EfficientNetLite0Encoder", "Encoder", "ResNet18Encoder", "ResNet50Encoder",
           "VGG16BNEncoder", "VGG16Encoder", "adapt_first_conv", "create_encoder", "load_weights"]
