"""The encoder registry: ``ENCODERS`` (name -> class) and ``create_encoder``."""

from __future__ import annotations

from pixelseg.errors import ConfigurationError
from pixelseg.models.encoders.base import Encoder
from pixelseg.models.encoders.efficientnet_lite0 import EfficientNetLite0Encoder
from pixelseg.models.encoders.resnet import ResNet18Encoder, ResNet50Encoder
from pixelseg.models.encoders.vgg import VGG16BNEncoder, VGG16Encoder

ENCODERS: dict[str, type[Encoder]] = {
    "vgg16": VGG16Encoder,
    "vgg16_bn": VGG16BNEncoder,
    "resnet18": ResNet18Encoder,
    "resnet50": ResNet50Encoder,
    "efficientnet_lite0": EfficientNetLite0Encoder,
}


def create_encoder(name: str, in_channels: int = 3, depth: int = 5, output_stride: int = 32,
                   argument: str = "encoder", allowed: tuple[str, ...] | None = None) -> Encoder:
    """Build the encoder ``name`` (one of ``allowed``, default all of ``ENCODERS``).

    Raises:
        ConfigurationError: an unknown name (the message names ``argument`` and the allowed values),
            an impossible depth or output stride.
    """
    allowed = tuple(ENCODERS) if allowed is None else allowed
    if name not in allowed:
        raise ConfigurationError(f"{argument}={name!r} is not allowed: use one of {list(allowed)}")
    return ENCODERS[name](in_channels=in_channels, depth=depth, output_stride=output_stride)

__all__ = ["ENCODERS", "create_encoder"]
