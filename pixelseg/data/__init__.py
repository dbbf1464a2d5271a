"""The data stage: class definitions, exact label reading, lazy datastores, pairing,
partitions, label statistics and augmentation.

Conventions: images are H x W x 3 uint8 RGB; label maps are H x W uint8 class indices
0..K-1 with :data:`VOID` = 255 for void (so at most 255 classes).
"""

from __future__ import annotations

import importlib

from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.io import image_size, read_image, read_label, read_label_raw
from pixelseg.data.labels import VOID, ClassSet, LabelSnapWarning
from pixelseg.data.pairing import PairedDatastore, UnpairedFilesWarning, combine
from pixelseg.data.partition import partition, read_split, write_split
from pixelseg.data.statistics import class_weights, count_each_label
from pixelseg.data.transforms import Resize

# Imported on first use (kornia is slow to import): name -> module.
_LAZY = {
    "Augmenter": "pixelseg.data.augmentation",
    "augmentation": "pixelseg.data.augmentation",
    "formats": "pixelseg.data.formats",
    "detect_layout": "pixelseg.data.formats",
}

__all__ = [
    "VOID",
    "ClassSet",
    "LabelSnapWarning",
    "ImageDatastore",
    "PixelLabelDatastore",
    "PairedDatastore",
    "UnpairedFilesWarning",
    "combine",
    "partition",
    "write_split",
    "read_split",
    "count_each_label",
    "class_weights",
    "Resize",
    "read_image",
    "read_label_raw",
    "read_label",
    "image_size",
    "Augmenter",
    "detect_layout",
]


def __getattr__(name: str):
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pixelseg.data' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
