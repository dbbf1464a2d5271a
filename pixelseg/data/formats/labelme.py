"""labelme JSON polygon annotations (github.com/wkentaro/labelme).

Each ``*.json`` holds ``imageHeight``, ``imageWidth``, ``imagePath`` and ``shapes``
(``label``, ``points``, ``shape_type``). labelme 5.3+ AI masks (``shape_type: "mask"``:
``points`` the box [[x0, y0], [x1, y1]], ``mask`` a base64 PNG of the crop) are pasted
into their box. Shapes are drawn in file order, later over
earlier, exactly as labelme's own ``shapes_to_label`` does (Pillow ``ImageDraw`` with the
outline included; lines 10 px wide, points of radius 5). Unlabelled pixels are the
background class (index 0); the label ``__ignore__`` is void, as in ``labelme2voc``.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import combine
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.pairing import PairedDatastore
from pixelseg.data.palettes import voc_colormap
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.text import read_utf8

__all__ = ["IGNORE_LABEL", "labelme_class_set", "read_labelme_raw", "labelme_datastore", "read_labelme", "import_labelme"]

IGNORE_LABEL = "__ignore__"
_LINE_WIDTH = 10
_POINT_RADIUS = 5


def labelme_class_set(labels: str | os.PathLike | list[str]) -> ClassSet:
    """ClassSet from labelme's ``labels.txt`` (or a list of names): ``__ignore__`` is left
    out (it is void, raw 255), the other names become classes 0..K-1 in order (the first
    is normally ``_background_``)."""
    if isinstance(labels, (str, os.PathLike)):
        path = Path(labels)
        if not path.is_file():
            raise FileNotFoundError(f"labelme labels file {path} does not exist")
        labels = [line.strip() for line in read_utf8(path).splitlines() if line.strip()]
    names = [n for n in labels if n != IGNORE_LABEL]
    return ClassSet(names, colors=voc_colormap(len(names)), void_ids=[VOID])


def _paste_mask(shape: dict, points: list, size: tuple[int, int], source: str) -> np.ndarray:
    """A labelme 5.3+ ``mask`` shape: a base64 PNG crop pasted at the box's top-left corner
    (``points`` = [[x0, y0], [x1, y1]], truncated to ints as labelme's ``shape_to_mask`` does).

    Raises:
        DataError: the mask is not a base64 PNG, or its size is not the box's
            ``(y1 - y0 + 1) x (x1 - x0 + 1)`` (naming the file, the shape and both sizes).
    """
    import base64
    import binascii
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        crop = np.asarray(Image.open(io.BytesIO(base64.b64decode(shape["mask"], validate=False)))) > 0
    except (binascii.Error, UnidentifiedImageError, ValueError, OSError) as exc:
        raise DataError(f"{source}: shape {shape.get('label')!r}: its 'mask' is not a base64 PNG ({exc})") from None
    if crop.ndim == 3:
        crop = crop.any(axis=2)
    out = np.zeros(size, dtype=bool)
    x0, y0 = (int(min(p[i] for p in points)) for i in (0, 1))  # labelme truncates too
    x1, y1 = (int(max(p[i] for p in points)) for i in (0, 1))
    h, w = crop.shape
    if (h, w) != (y1 - y0 + 1, x1 - x0 + 1):  # labelme's shape_to_mask fails on it too
        raise DataError(
            f"{source}: shape {shape.get('label')!r}: its mask is {h} x {w} pixels but its box "
            f"[[{x0}, {y0}], [{x1}, {y1}]] is {y1 - y0 + 1} x {x1 - x0 + 1} (rows x columns, ends included); "
            "the file is inconsistent (re-save the shape in labelme)"
        )
    ys, xs = slice(max(y0, 0), min(y0 + h, size[0])), slice(max(x0, 0), min(x0 + w, size[1]))
    out[ys, xs] = crop[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    return out


def _shape_mask(shape: dict, size: tuple[int, int], source: str):
    from PIL import Image, ImageDraw

    mask = Image.new("L", (size[1], size[0]), 0)
    draw = ImageDraw.Draw(mask)
    points = [tuple(map(float, p)) for p in shape.get("points", [])]
    kind = shape.get("shape_type") or "polygon"
    if kind == "polygon" and len(points) >= 2:
        draw.polygon(points, outline=1, fill=1)
    elif kind == "rectangle" and len(points) == 2:
        (x0, y0), (x1, y1) = points
        draw.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=1, fill=1)
    elif kind == "circle" and len(points) == 2:
        (cx, cy), (px, py) = points
        d = math.hypot(cx - px, cy - py)
        draw.ellipse([cx - d, cy - d, cx + d, cy + d], outline=1, fill=1)
    elif kind in ("line", "linestrip") and len(points) >= 2:
        draw.line(points, fill=1, width=_LINE_WIDTH)
    elif kind == "mask" and len(points) == 2 and shape.get("mask"):
        return _paste_mask(shape, points, size, source)
    elif kind == "point" and len(points) == 1:
        cx, cy = points[0]
        r = _POINT_RADIUS
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=1, fill=1)
    else:
        raise DataError(
            f"{source}: shape {shape.get('label')!r} of type {kind!r} with {len(points)} points is not supported"
        )
    return np.asarray(mask, dtype=bool)


def read_labelme_raw(path: str | os.PathLike, class_set: ClassSet) -> np.ndarray:
    """Rasterise one labelme JSON file to the class set's raw ids (H x W int64).

    Class k is written as its first raw id, ``__ignore__`` as the first void id, unlabelled
    pixels as class 0.

    Raises:
        DataError: unreadable JSON, missing size, labels not in the class set (listed).
    """
    path = Path(path)
    try:
        data = json.loads(read_utf8(path))
        height, width = int(data["imageHeight"]), int(data["imageWidth"])
        shapes = data["shapes"]
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: not a labelme annotation (needs imageHeight, imageWidth, shapes): {exc}") from None
    if class_set.id_type != "grey":
        raise ConfigurationError("labelme import needs a class set with grey label ids")
    names = class_set.names
    unknown = sorted({s.get("label") for s in shapes} - set(names) - {IGNORE_LABEL})
    if unknown:
        raise DataError(f"{path}: labels {unknown} are not in the class set {names}")
    if not class_set.void_ids and any(s.get("label") == IGNORE_LABEL for s in shapes):
        raise DataError(f"{path}: uses {IGNORE_LABEL!r} but the class set has no void id")
    ids = [class_set.label_ids[k][0] for k in range(len(names))]
    out = np.full((height, width), ids[0], dtype=np.int64)
    for shape in shapes:
        label = shape.get("label")
        value = class_set.void_ids[0] if label == IGNORE_LABEL else ids[names.index(label)]
        out[_shape_mask(shape, (height, width), str(path))] = value
    return out


def labelme_datastore(folder: str | os.PathLike, class_set: ClassSet, include_subfolders: bool = False) -> PixelLabelDatastore:
    """A lazy PixelLabelDatastore over labelme ``*.json`` files (rasterised on read)."""
    return PixelLabelDatastore(
        folder,
        class_set,
        include_subfolders=include_subfolders,
        file_extensions=[".json"],
        read_fn=functools.partial(read_labelme_raw, class_set=class_set),
    )


def read_labelme(folder: str | os.PathLike, class_set: ClassSet | None = None, unpaired: str = "error") -> PairedDatastore:
    """Pair the images of a labelme folder with their JSON annotations (same stem).

    class_set: default from ``labels.txt`` in the folder or its parent.
    """
    folder = Path(folder)
    if class_set is None:
        for candidate in (folder / "labels.txt", folder.parent / "labels.txt"):
            if candidate.is_file():
                class_set = labelme_class_set(candidate)
                break
        else:
            raise DataError(f"{folder}: no labels.txt found; pass class_set= to read labelme annotations")
    return combine(ImageDatastore(folder), labelme_datastore(folder, class_set), unpaired=unpaired)


def import_labelme(
    folder: str | os.PathLike,
    out_dir: str | os.PathLike,
    class_set: ClassSet | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Convert labelme JSON files to palette PNGs of class indices (void 255) in
    ``out_dir`` (created; must differ from ``folder``), atomically.

    Returns:
        The PNG paths written.
    Raises:
        ConfigurationError: out_dir is the annotation folder. FileExistsError: a PNG exists
        and overwrite is False.
    """
    from pixelseg.utils.atomic import save_png

    folder, out_dir = Path(folder), Path(out_dir)
    if out_dir.resolve() == folder.resolve():
        raise ConfigurationError(f"import_labelme: out_dir {out_dir} is the annotation folder; pixelseg never writes there")
    ds = read_labelme(folder, class_set)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, name in enumerate(ds.pair_names):
        written.append(save_png(ds.labels.read(i), out_dir / f"{name}.png", palette=ds.class_set.palette(), overwrite=overwrite))
    return written
