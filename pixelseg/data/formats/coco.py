"""COCO segmentation exports (cocodataset.org/#format-data): one JSON file with ``images``
(``id``, ``file_name``, ``height``, ``width``), ``annotations`` (``image_id``,
``category_id``, ``segmentation``, ``iscrowd``) and ``categories`` (``id``, ``name``), the
images in a folder beside it.

How the label maps are drawn (with pycocotools, the ``coco`` extra):

- ``segmentation`` as polygons (``[[x1, y1, x2, y2, ...], ...]``, parts of one object),
  uncompressed RLE (``{"counts": [...], "size": [h, w]}``) or compressed RLE (``counts`` a
  string), decoded as pycocotools' ``annToMask`` does (a polygon covers the pixels whose
  centre is inside it); polygons of fewer than 3 points cover nothing.
- Annotations are drawn in file order, later over earlier where they overlap; crowd
  annotations (``iscrowd: 1``) are drawn too, as their category.
- Pixels no annotation covers get raw ID 0.

Classes: the categories, ordered by id, with label ID = category id; when no category has id
0, a class ``background`` (label ID 0, named ``_background_`` if a category is already
called ``background``) comes first and holds the pixels no annotation covers. A class file
given instead must declare ``label_ids`` = the category ids (and 0).

Every image listed in ``images`` is read, those without annotations as all background.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.data.classes import ClassSet
from pixelseg.data.formats.exports import Rasteriser, choose_export, export_pairs, image_dir_option
from pixelseg.data.pairing import PairedDatastore
from pixelseg.data.palettes import voc_colormap
from pixelseg.errors import DataError
from pixelseg.utils.extras import require

__all__ = ["BACKGROUND", "looks_like_coco", "coco_class_set", "coco_images_folder", "read_coco"]

BACKGROUND = "background"


def looks_like_coco(data: Any) -> bool:
    """Whether parsed JSON is a COCO annotations file (``images``, ``annotations`` and
    ``categories`` lists)."""
    return isinstance(data, dict) and all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories"))


def _pycocotools_mask(source: Path):
    """``pycocotools.mask``; MissingExtraError naming the coco extra when not installed."""
    feature = f"{source}: reading COCO annotations"
    require("pycocotools", "coco", feature)  # names the package a user installs, not its module
    return require("pycocotools.mask", "coco", feature)


def coco_class_set(data: dict, source: str | os.PathLike = "the COCO file") -> ClassSet:
    """ClassSet of a COCO file's ``categories`` (see the module doc for the rule).

    Raises:
        DataError: a category without an integer ``id`` or a ``name``, or two with the
        same id or name (naming the file).
    """
    ids, names = [], []
    for cat in data["categories"]:
        if not isinstance(cat, dict) or not isinstance(cat.get("id"), int) or not isinstance(cat.get("name"), str):
            raise DataError(f"{source}: a category needs an integer 'id' and a 'name', got {cat!r}")
        ids.append(cat["id"])
        names.append(cat["name"])
    for what, values in (("id", ids), ("name", names)):
        twice = sorted({v for v in values if values.count(v) > 1}, key=str)
        if twice:
            raise DataError(f"{source}: categories with the same {what}: {twice}")
    order = sorted(range(len(ids)), key=ids.__getitem__)
    ids, names = [ids[i] for i in order], [names[i] for i in order]
    if 0 not in ids:
        ids.insert(0, 0)
        names.insert(0, BACKGROUND if BACKGROUND not in names else f"_{BACKGROUND}_")
    if not names:
        raise DataError(f"{source}: no categories")
    return ClassSet(names, label_ids=ids, colors=voc_colormap(len(names)))


class _CocoRasteriser(Rasteriser):
    """Entry: ``(height, width, [(category_id, segmentation, annotation id), ...])``."""

    def draw(self, entry) -> np.ndarray:
        height, width, annotations = entry
        mask_api = _pycocotools_mask(self.source)
        out = np.zeros((height, width), dtype=np.int64)
        for category, segmentation, ann_id in annotations:
            covered = _decode(mask_api, segmentation, height, width, f"{self.source}: annotation {ann_id}")
            if covered is not None:
                out[covered] = category
        return out


def _decode(mask_api, segmentation: Any, height: int, width: int, where: str) -> np.ndarray | None:
    """H x W bool of one annotation's segmentation; None when it covers nothing."""
    if isinstance(segmentation, list):
        polygons = []
        for polygon in segmentation:
            if not isinstance(polygon, list) or len(polygon) % 2 or not all(isinstance(v, (int, float)) for v in polygon):
                raise DataError(f"{where}: a polygon must be a list of x, y numbers, got {polygon!r:.80}")
            if len(polygon) >= 6:  # fewer than 3 points cover nothing (and 4 numbers would read as a box)
                polygons.append([float(v) for v in polygon])
        if not polygons:
            return None
        rle = mask_api.merge(mask_api.frPyObjects(polygons, height, width))
    elif isinstance(segmentation, dict) and "counts" in segmentation and "size" in segmentation:
        if list(segmentation["size"]) != [height, width]:
            raise DataError(f"{where}: RLE size {segmentation['size']} but the image is {height} x {width}")
        counts = segmentation["counts"]
        if isinstance(counts, list):
            if sum(counts) != height * width:
                raise DataError(f"{where}: RLE counts add up to {sum(counts)}, not {height} x {width} pixels")
            rle = mask_api.frPyObjects(segmentation, height, width)
        elif isinstance(counts, (str, bytes)):
            rle = {"size": [height, width], "counts": counts}
        else:
            raise DataError(f"{where}: RLE counts must be a list or a string, got {type(counts).__name__}")
    else:
        raise DataError(f"{where}: segmentation must be polygons or an RLE dict, got {segmentation!r:.80}")
    with warnings.catch_warnings():  # pycocotools' own, under NumPy 2: nothing the user can change
        warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a copy", DeprecationWarning)
        return mask_api.decode(rle).astype(bool)


def _image_entries(data: dict, source: Path) -> list[tuple[str, int, int, list]]:
    """``(file_name, height, width, annotations)`` per image, in the file's order."""
    images: dict[Any, tuple[str, int, int, list]] = {}
    for img in data["images"]:
        try:
            images[img["id"]] = (str(img["file_name"]), int(img["height"]), int(img["width"]), [])
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{source}: an image needs id, file_name, height and width, got {img!r:.120}") from None
    categories = {c["id"] for c in data["categories"]}
    for ann in data["annotations"]:
        ann_id = ann.get("id") if isinstance(ann, dict) else None
        if not isinstance(ann, dict) or "segmentation" not in ann:
            raise DataError(f"{source}: annotation {ann_id} has no segmentation (a detection-only file?)")
        if ann.get("image_id") not in images:
            raise DataError(f"{source}: annotation {ann_id} refers to image id {ann.get('image_id')!r}, not in images")
        if ann.get("category_id") not in categories:
            raise DataError(f"{source}: annotation {ann_id} has category_id {ann.get('category_id')!r}, not in categories")
        images[ann["image_id"]][3].append((ann["category_id"], ann["segmentation"], ann_id))
    return list(images.values())


def coco_images_folder(root: Path, source: Path, data: dict, images: str | os.PathLike | None = None) -> Path:
    """The folder ``file_name`` is relative to: ``root / images`` when given, else the folder
    of ``root`` that holds the most of the file's images.

    Raises:
        DataError: the folder given does not exist, or no folder holds any image.
    """
    names = [str(img.get("file_name", "")) for img in data["images"] if isinstance(img, dict)]
    return image_dir_option(root, images, source, lambda f: sum((f / n).is_file() for n in names), "COCO")


def read_coco(
    root: str | os.PathLike,
    annotations: str | os.PathLike | None = None,
    images: str | os.PathLike | None = None,
    class_set: ClassSet | None = None,
    unpaired: str = "error",
) -> PairedDatastore:
    """Read a COCO segmentation export as pixel labels (see the module doc).

    Args:
        root: the dataset folder.
        annotations: the JSON file, relative to ``root``; default the one COCO file in
            ``root`` or ``root/annotations``.
        images: the images folder, relative to ``root``, where ``file_name`` is looked up;
            default the folder of ``root`` holding the most of them (``images/`` first).
        class_set: default from the categories (:func:`coco_class_set`).
        unpaired: ``"error"`` (default) on images of the file missing from the folder;
            ``"warn"`` or ``"ignore"`` leave them out.

    Returns:
        PairedDatastore: pair names are the file names without extension.

    Raises:
        MissingExtraError: pycocotools is not installed (``pip install "pixelseg[coco]"``).
        DataError: no or several COCO files, a malformed entry (naming the file and the
            annotation), images missing (naming them and the folder).
    """
    root = Path(root)
    source, data = choose_export(root, annotations, "COCO", looks_like_coco)
    _pycocotools_mask(source)  # now, not at the first read
    entries = _image_entries(data, source)
    folder = coco_images_folder(root, source, data, images)
    found = [(folder / name, (h, w, anns)) for name, h, w, anns in entries if (folder / name).is_file()]
    missing = [name for name, *_ in entries if not (folder / name).is_file()]
    class_set = class_set or coco_class_set(data, source)
    return export_pairs(folder, found, missing, _CocoRasteriser, source, class_set, unpaired)
