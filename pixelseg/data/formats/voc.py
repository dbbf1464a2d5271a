"""Pascal VOC segmentation layout (Everingham et al., IJCV 2010).

``root/JPEGImages/*.jpg``, ``root/SegmentationClass/*.png`` (palette PNGs whose pixel
values are class indices; 255 = void, drawn in the "void" colour at object borders),
``root/ImageSets/Segmentation/{train,val,trainval}.txt`` (one stem per line). The labelme
export (``labelme2voc``) writes the same layout plus ``class_names.txt`` and
``SegmentationClassNpy/*.npy`` (int32, -1 = void).
"""

from __future__ import annotations

import os
from pathlib import Path

from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import combine
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.pairing import PairedDatastore
from pixelseg.data.palettes import voc_colormap
from pixelseg.data.partition import read_split
from pixelseg.errors import DataError
from pixelseg.utils.text import read_utf8

__all__ = ["VOC_CLASSES", "voc_class_set", "read_voc"]

#: The 21 Pascal VOC classes (index 0 background).
VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip


def voc_class_set(names: list[str] | None = None, void_ids: tuple[int, ...] = (255,)) -> ClassSet:
    """VOC ClassSet: ids 0..K-1 (default the 21 VOC classes), void 255, VOC colour map."""
    names = list(names or VOC_CLASSES)
    return ClassSet(names, colors=voc_colormap(len(names)), void_ids=void_ids)


def _class_names(root: Path) -> list[str] | None:
    path = root / "class_names.txt"
    if not path.is_file():
        return None
    return [line.strip() for line in read_utf8(path).splitlines() if line.strip()]


def read_voc(
    root: str | os.PathLike,
    class_set: ClassSet | None = None,
    labels: str = "SegmentationClass",
) -> dict[str, PairedDatastore]:
    """Read a VOC-layout folder.

    Args:
        root: the folder holding JPEGImages/ and SegmentationClass/.
        class_set: default: from ``class_names.txt`` when present, else the 21 VOC
            classes; void 255 (and -1 for ``labels="SegmentationClassNpy"``).
        labels: the label folder: ``"SegmentationClass"`` (palette PNGs, read as their
            indices) or ``"SegmentationClassNpy"``.

    Returns:
        ``{split: PairedDatastore}`` for each ``ImageSets/Segmentation/<split>.txt``;
        ``{"all": ...}`` (every image that has a label) when there are no split lists.

    Raises:
        DataError: missing folders, names in a split list without files.
    """
    root = Path(root)
    image_dir, label_dir = root / "JPEGImages", root / labels
    for folder in (image_dir, label_dir):
        if not folder.is_dir():
            raise DataError(f"{root}: a VOC layout needs the folder {folder.name}/")
    if class_set is None:
        void = (-1,) if labels.endswith("Npy") else (255,)
        class_set = voc_class_set(_class_names(root), void_ids=void)
    pxds = PixelLabelDatastore(label_dir, class_set)
    imds = ImageDatastore(image_dir)
    split_dir = root / "ImageSets" / "Segmentation"
    lists = sorted(split_dir.glob("*.txt")) if split_dir.is_dir() else []
    if not lists:
        return {"all": combine(imds, pxds, unpaired="ignore")}
    paired = combine(imds, pxds, unpaired="ignore")
    return {path.stem: read_split(paired, path) for path in lists}
