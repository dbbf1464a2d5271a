"""The data stage: class definitions, exact label reading, lazy datastores, pairing,
partitions, label statistics and augmentation.

Conventions: images are H x W x 3 uint8 RGB; label maps are H x W uint8 class indices
0..K-1 with :data:`VOID` = 255 for void (so at most 255 classes).
"""

from __future__ import annotations

from pixelseg.conventions import VOID
from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import UnpairedFilesWarning, combine
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.encoding import LabelSnapWarning
from pixelseg.data.io import image_size, read_image, read_label, read_label_raw
from pixelseg.data.pairing import PairedDatastore
from pixelseg.data.partition import partition, read_split, write_split
from pixelseg.data.regions import read_region_mask, void_outside
from pixelseg.data.object_size import class_widths
from pixelseg.data.statistics import class_weights, count_each_label
from pixelseg.data.transforms import Resize
from pixelseg.utils.lazy import lazy_exports

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
    "class_widths",
    "class_weights",
    "Resize",
    "read_image",
    "read_label_raw",
    "read_label",
    "image_size",
    "read_region_mask",
    "void_outside",
    "Augmenter",
    "detect_layout",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
