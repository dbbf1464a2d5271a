"""Recognising a dataset folder's layout (used by ``pixelseg info``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pixelseg.data.classes import ClassSet
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import DataError

__all__ = ["DetectedLayout", "detect_layout"]


@dataclass
class DetectedLayout:
    """What :func:`detect_layout` found.

    name: ``"camvid"``, ``"cityscapes"``, ``"pascal-voc"``, ``"cvat-mask-1.1"``,
    ``"labelme"`` or ``"generic"``. label_format: how labels are stored, in words.
    class_set: the class set the layout defines (None when it needs one from the user).
    """

    name: str
    root: Path
    label_format: str
    class_set: ClassSet | None
    _open: Callable[[ClassSet | None, str], dict[str, PairedDatastore]] = field(repr=False)
    notes: list[str] = field(default_factory=list)

    def open(self, class_set: ClassSet | None = None, unpaired: str = "error") -> dict[str, PairedDatastore]:
        """The layout's PairedDatastores by split name (``{"all": ...}`` without splits).

        class_set overrides the layout's own; unpaired as for ``combine``. Raises
        DataError when there is no class set, or on unpaired files (by default).
        """
        return self._open(class_set or self.class_set, unpaired)


def _camvid(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import camvid

    splits = [s for s in ("train", "val", "test") if (root / s).is_dir() and (root / f"{s}annot").is_dir()]
    if not splits:
        return None

    return DetectedLayout(
        "camvid", root, "8-bit grey PNG class indices (SegNet preparation: 0..10, 11 = void)",
        camvid.camvid_class_set(), lambda cs, unpaired: camvid.read_camvid(root, class_set=cs, unpaired=unpaired),
        [f"splits: {', '.join(splits)}"],
    )  # fmt: skip


def _cityscapes(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import cityscapes

    if not ((root / "leftImg8bit").is_dir() and (root / "gtFine").is_dir()):
        return None
    return DetectedLayout(
        "cityscapes", root, "8-bit grey PNG Cityscapes label ids (*_gtFine_labelIds.png) mapped to 19 train ids",
        cityscapes.cityscapes_class_set(),
        lambda cs, unpaired: cityscapes.read_cityscapes(root, class_set=cs, unpaired=unpaired),
    )  # fmt: skip


def _cvat(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import cvat

    if not ((root / "labelmap.txt").is_file() and (root / "SegmentationClass").is_dir()):
        return None
    return DetectedLayout(
        "cvat-mask-1.1", root, "RGB colour PNG masks with labelmap.txt (CVAT Segmentation mask 1.1)",
        cvat.read_labelmap(root / "labelmap.txt"), lambda cs, unpaired: {"all": cvat.read_cvat(root, class_set=cs, unpaired=unpaired)},
    )  # fmt: skip


def _voc(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import voc

    if not ((root / "JPEGImages").is_dir() and (root / "SegmentationClass").is_dir()):
        return None
    names = voc._class_names(root)
    notes = ["class names from class_names.txt"] if names else ["the 21 Pascal VOC classes"]
    if (root / "ImageSets" / "Segmentation").is_dir():
        notes.append("splits from ImageSets/Segmentation")
    return DetectedLayout(
        "pascal-voc", root, "palette PNG class indices (255 = void)", voc.voc_class_set(names),
        lambda cs, unpaired: voc.read_voc(root, class_set=cs), notes,
    )  # fmt: skip


def _labelme(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import labelme

    jsons = sorted(root.glob("*.json"))
    if not jsons:
        return None
    try:
        first = json.loads(jsons[0].read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
        return None
    if not isinstance(first, dict) or "shapes" not in first:
        return None
    labels_txt = next((p for p in (root / "labels.txt", root.parent / "labels.txt") if p.is_file()), None)
    class_set = labelme.labelme_class_set(labels_txt) if labels_txt else None

    def open_(cs, unpaired):
        if cs is None:
            raise DataError(f"{root}: labelme annotations need class names (labels.txt or --classes)")
        return {"all": labelme.read_labelme(root, cs, unpaired=unpaired)}

    return DetectedLayout("labelme", root, "labelme JSON polygons", class_set, open_)


def _generic(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import generic

    pair = generic.find_folder_pair(root)
    if pair is None:
        return None
    class_file = generic.find_class_file(root, pair[1])
    class_set = ClassSet.load(class_file) if class_file else None

    def open_(cs, unpaired):
        if cs is None:
            raise DataError(
                f"{root}: no {' / '.join(generic.CLASS_FILES)} found; pass the class definitions (--classes)"
            )
        return {"all": generic.read_generic(root, cs, unpaired=unpaired)}

    notes = [f"images in {pair[0].name}/, labels in {pair[1].name}/"]
    notes.append(f"classes from {class_file.name}" if class_file else "no class file")
    return DetectedLayout("generic", root, "label files in " + pair[1].name + "/", class_set, open_, notes)


_DETECTORS = (_cityscapes, _cvat, _voc, _camvid, _labelme, _generic)


def detect_layout(path: str | os.PathLike) -> DetectedLayout:
    """Recognise the dataset layout of a folder: Cityscapes (leftImg8bit/ + gtFine/), CVAT
    mask export (labelmap.txt + SegmentationClass/), Pascal VOC (JPEGImages/ +
    SegmentationClass/), CamVid SegNet (train/ + trainannot/ ...), labelme (``*.json`` with
    shapes), generic (images/ + labels/ and variants, with classes.json).

    Raises:
        FileNotFoundError: no such folder. DataError: no known layout (says what was
        looked for).
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    for detector in _DETECTORS:
        found = detector(root)
        if found is not None:
            return found
    raise DataError(
        f"{root}: no known dataset layout (looked for Cityscapes leftImg8bit/ + gtFine/, CVAT labelmap.txt + "
        "SegmentationClass/, VOC JPEGImages/ + SegmentationClass/, CamVid train/ + trainannot/, labelme *.json, "
        "or images/ + labels/ with classes.json)"
    )
