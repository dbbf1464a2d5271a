"""Recognising a dataset folder's layout (used by ``pixelseg info``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixelseg.data.classes import ClassSet
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import DataError

__all__ = ["DetectedLayout", "detect_layout"]


@dataclass
class DetectedLayout:
    """What :func:`detect_layout` found.

    name: a layout of :data:`~pixelseg.data.formats.layouts.LAYOUTS` (``"camvid"``,
    ``"nested"``, ``"generic"``, ...). label_format: how labels are stored, in words.
    class_set: the class set the layout defines (None when it needs one from the user).
    options: the layout's options as found (``{"image_dir": "images", ...}``): with
    ``root`` and ``name`` they are the YAML ``data:`` block (:meth:`data_block`).
    """

    name: str
    root: Path
    label_format: str
    class_set: ClassSet | None
    notes: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    class_file: Path | None = None

    def open(self, class_set: ClassSet | None = None, unpaired: str = "error") -> dict[str, PairedDatastore]:
        """The layout's PairedDatastores by split name (``{"all": ...}`` without splits).

        class_set overrides the layout's own; unpaired as for ``combine``. Raises
        DataError when there is no class set, or on unpaired files (by default).
        """
        from pixelseg.data.formats.layouts import open_layout

        return open_layout(self.root, self.name, class_set or self.class_set, unpaired, **self.options)

    def data_config(self) -> dict[str, Any]:
        """The ``data:`` mapping that reads this folder: ``root``, ``layout``, the options."""
        return {"root": str(self.root.resolve()), "layout": self.name, **self.options}

    def data_block(self) -> str:
        """:meth:`data_config` as YAML, ready to paste into ``train.yaml``."""
        import yaml

        return yaml.safe_dump({"data": self.data_config()}, sort_keys=False, allow_unicode=True).rstrip()


def _camvid(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import camvid

    splits = [s for s in ("train", "val", "test") if (root / s).is_dir() and (root / f"{s}annot").is_dir()]
    if not splits:
        return None
    return DetectedLayout(
        "camvid", root, "8-bit grey PNG class indices (SegNet preparation: 0..10, 11 = void)",
        camvid.camvid_class_set(), [f"splits: {', '.join(splits)}"],
    )  # fmt: skip


def _cityscapes(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import cityscapes

    if not ((root / "leftImg8bit").is_dir() and (root / "gtFine").is_dir()):
        return None
    return DetectedLayout(
        "cityscapes", root, "8-bit grey PNG Cityscapes label ids (*_gtFine_labelIds.png) mapped to 19 train ids",
        cityscapes.cityscapes_class_set(), ["only the *_gtFine_labelIds.png files are read"],
    )  # fmt: skip


def _cvat(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import cvat

    if not ((root / "labelmap.txt").is_file() and (root / "SegmentationClass").is_dir()):
        return None
    return DetectedLayout(
        "cvat-mask-1.1", root, "RGB colour PNG masks with labelmap.txt (CVAT Segmentation mask 1.1)",
        cvat.read_labelmap(root / "labelmap.txt"),
    )  # fmt: skip


def _voc(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import voc

    if not ((root / "JPEGImages").is_dir() and (root / "SegmentationClass").is_dir()):
        return None
    names = voc._class_names(root)
    notes = ["class names from class_names.txt"] if names else ["the 21 Pascal VOC classes"]
    if (root / "ImageSets" / "Segmentation").is_dir():
        notes.append("splits from ImageSets/Segmentation")
    return DetectedLayout("pascal-voc", root, "palette PNG class indices (255 = void)", voc.voc_class_set(names), notes)


def _export(root: Path, name: str) -> DetectedLayout | None:
    """COCO (``name="coco"``) or Label Studio: the one export JSON in ``root`` or
    ``root/annotations``, the folder holding its images, the classes it names."""
    from pixelseg.data.formats import coco, exports, label_studio

    looks_like = coco.looks_like_coco if name == "coco" else label_studio.looks_like_label_studio
    find_images = coco.coco_images_folder if name == "coco" else label_studio.label_studio_images_folder
    kind = "COCO" if name == "coco" else "Label Studio"
    found = exports.find_exports(root, kind, looks_like)
    if not found:
        return None
    (source, data), others = found[0], [p.relative_to(root).as_posix() for p, _ in found[1:]]
    options = {"annotations": source.relative_to(root).as_posix()}
    try:
        folder = find_images(root, source, data)
        options["images"] = folder.relative_to(root).as_posix() if folder != root else "."
    except DataError:  # named by the reader when the block is read
        pass
    if name == "coco":
        class_set = coco.coco_class_set(data, source)
        what = "COCO JSON: polygons and RLE per image, drawn in file order"
    else:
        class_set = label_studio.label_studio_class_set(label_studio.label_studio_labels(data, source))
        what = "Label Studio JSON: brush RLE and polygons per task, drawn in result order"
    notes = [f"annotations in {options['annotations']}, images in {options.get('images', '(not found)')}"]
    if others:
        notes.append(f"other {kind} files: {', '.join(others)} (name the one to read as annotations:)")
    return DetectedLayout(name, root, what, class_set, notes, options)


def _coco(root: Path) -> DetectedLayout | None:
    return _export(root, "coco")


def _label_studio(root: Path) -> DetectedLayout | None:
    return _export(root, "label-studio")


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
    return DetectedLayout("labelme", root, "labelme JSON polygons", class_set)


def _generic(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats import generic

    pair = generic.find_folder_pair(root)
    if pair is None:
        return None
    class_file = generic.find_class_file(root, pair[1])
    class_set = ClassSet.load(class_file) if class_file else None
    notes = [f"images in {pair[0].name}/, labels in {pair[1].name}/"]
    notes.append(f"classes from {class_file.name}" if class_file else "no class file")
    return DetectedLayout("generic", root, "label files in " + pair[1].name + "/", class_set, notes,
                          {"image_dir": pair[0].name, "label_dir": pair[1].name}, class_file)  # fmt: skip


def _folder_layouts(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats.detect_folders import detect_folder_layout

    return detect_folder_layout(root)


_DETECTORS = (_cityscapes, _cvat, _voc, _camvid, _coco, _label_studio, _labelme, _folder_layouts, _generic)


def detect_layout(path: str | os.PathLike) -> DetectedLayout:
    """Recognise the dataset layout of a folder: Cityscapes (leftImg8bit/ + gtFine/), CVAT
    mask export (labelmap.txt + SegmentationClass/), Pascal VOC (JPEGImages/ +
    SegmentationClass/), CamVid SegNet (train/ + trainannot/ ...), COCO and Label Studio
    exports (one JSON file in the folder or its annotations/, with the images in a folder),
    labelme (``*.json`` with shapes), class folders (images/ + masks/<class>/), suffixes (images/ + label folders
    whose names carry suffixes, such as DRIVE), generic (images/ + labels/ and variants,
    with classes.json), nested groups (<group>/images/ + <group>/masks/), masks beside
    their images (NAME.jpg + NAME.png, NAME.png + NAME_mask.png).

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
        "SegmentationClass/, VOC JPEGImages/ + SegmentationClass/, CamVid train/ + trainannot/, a COCO or Label Studio JSON "
        "export, labelme *.json, "
        "images/ + labels/ (or masks/, masks/<class>/, suffixed names), <group>/images/ + <group>/masks/, "
        "or masks beside their images)"
    )
