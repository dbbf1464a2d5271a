"""Label Studio JSON exports (labelstud.io, "JSON" export): a list of tasks, each with
``data.image`` (the image's URL or path) and ``annotations``, each annotation a ``result``
list of regions.

Regions read (others, such as rectangles or choices, are left out):

- ``brushlabels``: ``value.format == "rle"``, ``value.rle`` Label Studio's own run-length
  code of the H x W x 4 RGBA brush layer (:func:`decode_rle`); the pixels of alpha > 0 are
  the label's, as label-studio-converter's ``ls_rle_to_coco_rle`` reads them.
- ``polygonlabels``: ``value.points`` ``[[x, y], ...]`` in percent of ``original_width`` and
  ``original_height``; a polygon covers the pixels whose centre is inside it
  (:func:`~pixelseg.data.formats.exports.polygon_mask`, as COCO polygons are drawn).

Regions are drawn in ``result`` order, later over earlier; pixels no region covers are class
0. Of a task's annotations the first one not cancelled (``was_cancelled``) is read; tasks
without one are left out.

Images: ``data.image`` without its folders (``/data/upload/3/1a2b3c4d-photo.jpg`` ->
``photo.jpg``: the 8-hex-digit prefix Label Studio gives uploads is dropped when the name
with it is not found; ``/data/local-files/?d=dir/photo.jpg`` -> ``photo.jpg``), looked up by
file name in the images folder and its subfolders.

Classes: from a class file (the label names, class 0 for unlabelled pixels, grey label IDs),
or else ``background`` (label ID 0) then the labels seen, sorted (IDs 1..K); a label called
``background`` is that class 0.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from pixelseg.data.classes import ClassSet
from pixelseg.data.formats.exports import (
    Rasteriser,
    choose_export,
    export_pairs,
    image_dir_option,
    image_index,
    polygon_mask,
)
from pixelseg.data.io import image_size
from pixelseg.data.pairing import PairedDatastore
from pixelseg.data.palettes import voc_colormap
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["BACKGROUND", "REGION_TYPES", "decode_rle", "looks_like_label_studio", "label_studio_labels",
           "label_studio_class_set", "image_names", "label_studio_images_folder", "read_label_studio"]  # fmt: skip

BACKGROUND = "background"
#: result types drawn, and the key of their label list in ``value``
REGION_TYPES = {"brushlabels": "brushlabels", "polygonlabels": "polygonlabels"}
_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-(.+)$")


class _Bits:
    """Reads big-endian unsigned integers of any width from a bit string."""

    def __init__(self, data: bytes):
        self.text = (np.unpackbits(np.frombuffer(data, dtype=np.uint8)) + ord("0")).tobytes().decode("ascii")
        self.pos = 0

    def read(self, size: int) -> int:
        if self.pos + size > len(self.text):
            raise ValueError("the code ends early")
        value = int(self.text[self.pos : self.pos + size], 2)
        self.pos += size
        return value


def decode_rle(rle: list[int] | bytes) -> np.ndarray:
    """Decode Label Studio's brush RLE (thi.ng ``rle-pack``, as label-studio-converter's
    ``brush.decode_rle``) to a flat uint8 array.

    The code is a bit stream (bytes, most significant bit first): 32 bits ``n`` (values),
    5 bits word size - 1, four 4-bit run-length sizes - 1; then until ``n`` values are out,
    blocks of 1 bit (1: a run, 0: literals), 2 bits choosing a run-length size ``s``, ``s``
    bits ``m``: a run is one word repeated ``m + 1`` times, literals are ``m + 1`` words.

    Raises:
        ValueError: the code ends before ``n`` values, or is not a list of bytes.
    """
    try:
        data = bytes(rle)
    except (TypeError, ValueError):
        raise ValueError("the RLE must be a list of byte values 0..255") from None
    bits = _Bits(data)
    num = bits.read(32)
    word = bits.read(5) + 1
    sizes = [bits.read(4) + 1 for _ in range(4)]
    out = np.zeros(num, dtype=np.uint8)
    i = 0
    while i < num:
        is_run = bits.read(1)
        j = min(i + 1 + bits.read(sizes[bits.read(2)]), num)
        if is_run:
            out[i:j] = bits.read(word)
            i = j
        else:
            while i < j:
                out[i] = bits.read(word)
                i += 1
    return out


def looks_like_label_studio(data: Any) -> bool:
    """Whether parsed JSON is a Label Studio JSON export (a list of tasks with ``data``
    and ``annotations``)."""
    return (isinstance(data, list) and bool(data) and isinstance(data[0], dict)
            and isinstance(data[0].get("data"), dict) and "annotations" in data[0])  # fmt: skip


def _regions(task: dict) -> list[dict] | None:
    """The drawn regions of a task's first annotation not cancelled; None without one."""
    for annotation in task.get("annotations") or []:
        if isinstance(annotation, dict) and not annotation.get("was_cancelled"):
            return [r for r in annotation.get("result") or [] if isinstance(r, dict) and r.get("type") in REGION_TYPES]
    return None


def _label(region: dict, where: str) -> str:
    labels = (region.get("value") or {}).get(REGION_TYPES[region["type"]])
    if not isinstance(labels, list) or not labels or not isinstance(labels[0], str):
        raise DataError(f"{where}: a {region['type']} region without a label: {region.get('id')!r}")
    return labels[0]


def label_studio_labels(tasks: list, source: str | os.PathLike = "the export") -> list[str]:
    """The labels of the regions read, sorted."""
    return sorted({_label(r, f"{source}: task {t.get('id')}") for t in tasks if (rs := _regions(t)) for r in rs})


def label_studio_class_set(labels: list[str]) -> ClassSet:
    """``background`` (label ID 0) then ``labels`` (IDs 1..K), colours of the VOC colour map."""
    names = [BACKGROUND, *[n for n in labels if n != BACKGROUND]]
    return ClassSet(names, colors=voc_colormap(len(names)))


def image_names(reference: str) -> list[str]:
    """The file names ``data.image`` may have on disk, most likely first (see the module doc)."""
    parsed = urllib.parse.urlparse(reference)
    local = urllib.parse.parse_qs(parsed.query).get("d")
    name = urllib.parse.unquote(PurePosixPath(local[0] if local else parsed.path).name)
    upload = _UPLOAD_PREFIX.match(name)
    return [name, upload.group(1)] if upload else [name]


class _LabelStudioRasteriser(Rasteriser):
    """Entry: ``(image path, [(raw id, region), ...], fill id)``."""

    def draw(self, entry) -> np.ndarray:
        path, regions, fill = entry
        size = None
        out = None
        for value, region in regions:
            where = f"{self.source}: region {region.get('id')!r} of {Path(path).name}"
            height, width = _size(region, where)
            if out is None:
                size, out = (height, width), np.full((height, width), fill, dtype=np.int64)
            elif (height, width) != size:
                raise DataError(f"{where}: original size {width} x {height}, other regions {size[1]} x {size[0]}")
            out[_region_mask(region, height, width, where)] = value
        if out is None:  # an annotation without regions: all class 0, at the image's size
            out = np.full(image_size(path), fill, dtype=np.int64)
        return out


def _size(region: dict, where: str) -> tuple[int, int]:
    try:
        return int(region["original_height"]), int(region["original_width"])
    except (KeyError, TypeError, ValueError):
        raise DataError(f"{where}: no original_width and original_height") from None


def _region_mask(region: dict, height: int, width: int, where: str) -> np.ndarray:
    value = region.get("value") or {}
    if region["type"] == "brushlabels":
        if value.get("format", "rle") != "rle" or "rle" not in value:
            raise DataError(f"{where}: a brush region must hold value.rle (format 'rle'), got format {value.get('format')!r}")
        try:
            rgba = decode_rle(value["rle"])
        except ValueError as exc:
            raise DataError(f"{where}: bad brush RLE: {exc}") from None
        if rgba.size != height * width * 4:
            raise DataError(f"{where}: the brush RLE holds {rgba.size} values, not {height} x {width} x 4")
        return rgba.reshape(height, width, 4)[..., 3] > 0
    points = np.asarray(value.get("points") or [], dtype=np.float64).reshape(-1, 2)
    return polygon_mask(points * [width / 100.0, height / 100.0], height, width)


def _reference(task: dict) -> str:
    return str((task.get("data") or {}).get("image", ""))


def _lookup(index: dict[str, list[Path]], reference: str, source: Path) -> Path | None:
    """The image file of ``data.image`` in an :func:`image_index`; None when not there.
    Raises DataError when several files have its name."""
    for name in image_names(reference):
        files = index.get(name, [])
        if len(files) > 1:
            raise DataError(f"{source}: image {reference!r}: several files named {name}: "
                            + ", ".join(map(str, files[:3])))  # fmt: skip
        if files:
            return files[0]
    return None


def label_studio_images_folder(root: Path, source: Path, tasks: list, images: str | os.PathLike | None = None) -> Path:
    """The images folder: ``root / images`` when ``images`` is given, else the folder of ``root`` that
    holds the most of the tasks' images (by file name, subfolders too).

    Raises:
        DataError: the folder given does not exist, or no folder holds any image.
    """
    references = [_reference(t) for t in tasks if isinstance(t, dict)]

    def count(folder: Path) -> int:
        index = image_index(folder)
        return sum(any(n in index for n in image_names(r)) for r in references)

    return image_dir_option(root, images, source, count, "Label Studio")


def read_label_studio(
    root: str | os.PathLike,
    annotations: str | os.PathLike | None = None,
    images: str | os.PathLike | None = None,
    class_set: ClassSet | None = None,
    unpaired: str = "error",
) -> PairedDatastore:
    """Read a Label Studio JSON export as pixel labels (see the module doc).

    Args:
        root: the dataset folder.
        annotations: the JSON export, relative to ``root``; default the one Label Studio
            export in ``root`` or ``root/annotations``.
        images: the images folder, relative to ``root``; default the folder of ``root``
            holding the most of the tasks' images (``images/`` first).
        class_set: a class set with grey label IDs whose names are the labels; default
            :func:`label_studio_class_set` of the labels seen.
        unpaired: ``"error"`` (default) on tasks whose image is not in the folder;
            ``"warn"`` or ``"ignore"`` leave them out.

    Raises:
        DataError: no or several exports, a label not in the class set, a bad region
            (naming the file and the region), images missing (naming them and the folder),
            one image name for two files.
        ConfigurationError: a class set with RGB label IDs.
    """
    root = Path(root)
    source, tasks = choose_export(root, annotations, "Label Studio", looks_like_label_studio)
    labelled = [(t, regions) for t in tasks if isinstance(t, dict) and (regions := _regions(t)) is not None]
    references = [_reference(t) for t, _ in labelled]
    folder = label_studio_images_folder(root, source, tasks, images)
    labels = label_studio_labels([t for t, _ in labelled], source)
    class_set = class_set or label_studio_class_set(labels)
    if class_set.id_type != "grey":
        raise ConfigurationError("Label Studio labels need a class set with grey label IDs")
    unknown = sorted(set(labels) - set(class_set.names))
    if unknown:
        raise DataError(f"{source}: labels {unknown} are not in the class set {class_set.names}")
    ids = {name: class_set.label_ids[k][0] for k, name in enumerate(class_set.names)}
    fill = class_set.label_ids[0][0]
    index = image_index(folder)
    found, missing = [], []
    for (task, regions), reference in zip(labelled, references, strict=True):
        path = _lookup(index, reference, source)
        if path is None:
            missing.append(reference or f"task {task.get('id')} (no data.image)")
            continue
        where = f"{source}: task {task.get('id')}"
        found.append((path, (str(path), [(ids[_label(r, where)], r) for r in regions], fill)))
    return export_pairs(folder, found, missing, _LabelStudioRasteriser, source, class_set, unpaired)
