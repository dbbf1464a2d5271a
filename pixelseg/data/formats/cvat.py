"""CVAT "Segmentation mask 1.1" exports (the VOC-like format of CVAT and Datumaro).

Layout: ``labelmap.txt`` (lines ``name:r,g,b:parts:actions``, ``#`` comments),
``SegmentationClass/*.png`` (RGB colour masks, one colour per label, background usually
(0, 0, 0)), ``SegmentationObject/`` (instances, unused here),
``ImageSets/Segmentation/default.txt``, and ``JPEGImages/`` when images were exported.
"""

from __future__ import annotations

import os
from pathlib import Path

from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import combine
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import DataError
from pixelseg.utils.text import read_utf8

__all__ = ["read_labelmap", "read_cvat"]


def read_labelmap(path: str | os.PathLike, void_names: tuple[str, ...] = ()) -> ClassSet:
    """ClassSet from a CVAT/Datumaro ``labelmap.txt``: one class per line in file order,
    raw id = its RGB colour; labels named in ``void_names`` become void colours.

    Raises:
        FileNotFoundError: no such file. DataError: a malformed line (named with its number).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labelmap {path} does not exist")
    names, colours, void = [], [], []
    for number, line in enumerate(read_utf8(path).splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        try:
            rgb = tuple(int(v) for v in parts[1].split(","))
            if len(parts) < 2 or len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
                raise ValueError
        except (IndexError, ValueError):
            raise DataError(f"{path}, line {number}: expected 'name:r,g,b:parts:actions', got {line!r}") from None
        if parts[0] in void_names:
            void.append(rgb)
        else:
            names.append(parts[0])
            colours.append(rgb)
    if not names:
        raise DataError(f"{path}: no labels")
    return ClassSet(names, label_ids=colours, colors=colours, void_ids=void)


def read_cvat(
    root: str | os.PathLike,
    images: str | os.PathLike | None = None,
    class_set: ClassSet | None = None,
    tolerance: int = 0,
    unpaired: str = "error",
) -> PairedDatastore:
    """Read a CVAT "Segmentation mask 1.1" export.

    Args:
        root: the export folder (labelmap.txt, SegmentationClass/).
        images: the image folder; default ``root/JPEGImages``.
        class_set: default from ``labelmap.txt``.
        tolerance: colour tolerance for the masks (see ClassSet.encode); default exact.
        unpaired: as for :func:`~pixelseg.data.combine`.

    Raises:
        DataError: missing folders/files, unpaired files, stray colours (on read).
    """
    root = Path(root)
    masks = root / "SegmentationClass"
    if not masks.is_dir():
        raise DataError(f"{root}: a CVAT segmentation-mask export needs SegmentationClass/")
    image_dir = Path(images) if images is not None else root / "JPEGImages"
    if not image_dir.is_dir():
        raise DataError(
            f"{root}: no images: the export has no JPEGImages/ (export with images, or pass images=FOLDER)"
        )
    class_set = class_set or read_labelmap(root / "labelmap.txt")
    pxds = PixelLabelDatastore(masks, class_set, file_extensions=[".png"], tolerance=tolerance)
    return combine(ImageDatastore(image_dir, include_subfolders=True), pxds, unpaired=unpaired)
