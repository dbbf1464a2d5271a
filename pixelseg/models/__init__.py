"""Segmentation networks: SegNet, U-Net, DeepLab v3+ and FCN on pretrained encoders.

Every network maps N x C x H x W float32 images in [0, 1] to N x K x H x W logits for any
H, W >= 1 (normalisation, padding to the stride and cropping back are built in). Build one
by name with ``create_network(name, num_classes, **kwargs)``, or with ``segnet``, ``unet``,
``deeplabv3plus``, ``fcn``; ``summary(net, image_size)`` tabulates its layers.
"""

from __future__ import annotations

from pixelseg.models.base import SegmentationNetwork
from pixelseg.models.deeplabv3plus import deeplabv3plus
from pixelseg.models.fcn import fcn
from pixelseg.models.registry import create_network, list_networks, register_network
from pixelseg.models.segnet import segnet
from pixelseg.models.summary import summary
from pixelseg.models.unet import unet

__all__ = ["SegmentationNetwork", "create_network", "deeplabv3plus", "fcn", "list_networks",
           "register_network", "segnet", "summary", "unet"]
