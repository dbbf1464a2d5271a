"""What the one-file annotation exports (COCO, Label Studio) share: one JSON file describes
every image, and each image's label map is drawn from it when read.

:func:`export_pairs` builds the PairedDatastore: the images, and a PixelLabelDatastore over
the same image files whose ``read_fn`` (a :class:`Rasteriser`) draws the image's
annotations as raw label IDs (H x W int64), encoded through the class set as any label file
is. Pair names are the image paths below the images folder without the extension
(``sub/photo``), as :func:`~pixelseg.data.combining.relative_keys` makes them.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import UnpairedFilesWarning, relative_keys
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.files import check_names_unique
from pixelseg.data.io import IMAGE_EXTENSIONS
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.text import read_utf8

__all__ = ["Rasteriser", "load_json", "json_candidates", "find_exports", "choose_export", "choose_images_folder",
           "image_dir_option", "image_index", "export_pairs", "polygon_mask"]  # fmt: skip

#: folders searched for the export's JSON file, besides the dataset folder itself
ANNOTATION_DIRS = ("annotations", "annotation", "labels")
#: at most this many JSON files are opened when looking for an export (a labelme folder has one per image)
_MAX_CANDIDATES = 8


def load_json(path: str | os.PathLike, what: str) -> Any:
    """The parsed JSON of ``path``.

    Raises:
        FileNotFoundError: no such file. DataError: not UTF-8 or not JSON (naming the file,
        the line and the column).
    """
    path = Path(path)
    try:
        return json.loads(read_utf8(path, what))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not a {what} (not JSON: {exc})") from None


def json_candidates(root: Path) -> list[Path]:
    """The JSON files of ``root`` and of its ``annotations/`` (or ``annotation/``,
    ``labels/``) folder, sorted; none when there are more than a few (one file per image is
    labelme, not an export)."""
    found = []
    for folder in (root, *(root / d for d in ANNOTATION_DIRS)):
        if folder.is_dir():
            found.extend(sorted(p for p in folder.glob("*.json") if p.is_file() and not p.name.startswith(".")))
    return found if len(found) <= _MAX_CANDIDATES else []


def find_exports(root: Path, kind: str, looks_like: Callable[[Any], bool]) -> list[tuple[Path, Any]]:
    """``(path, parsed JSON)`` of each :func:`json_candidates` file that ``looks_like`` a
    ``kind`` export (files that are not JSON are passed over)."""
    found = []
    for path in json_candidates(root):
        try:
            data = load_json(path, f"{kind} export")
        except DataError:
            continue
        if looks_like(data):
            found.append((path, data))
    return found


def choose_export(root: Path, annotations: str | os.PathLike | None, kind: str,
                  looks_like: Callable[[Any], bool]) -> tuple[Path, Any]:
    """The export file (``annotations`` relative to ``root``, or the one JSON file found by
    :func:`json_candidates` that ``looks_like``) and its parsed content.

    Raises:
        DataError: the file is missing, is not a ``kind`` export, none or several were found.
    """
    if annotations is not None:
        path = root / annotations
        if not path.is_file():
            raise DataError(f"{root}: the {kind} annotations file {annotations} does not exist")
        data = load_json(path, f"{kind} export")
        if not looks_like(data):
            raise DataError(f"{path}: not a {kind} export")
        return path, data
    found = find_exports(root, kind, looks_like)
    if not found:
        raise DataError(f"{root}: no {kind} annotations file (*.json) found; give its path as annotations:")
    if len(found) > 1:
        names = ", ".join(p.relative_to(root).as_posix() for p, _ in found)
        raise DataError(f"{root}: several {kind} annotations files ({names}); name one with annotations:")
    return found[0]


def choose_images_folder(root: Path, export: Path, found: Callable[[Path], int]) -> Path | None:
    """The folder that holds the most of the export's images (``found(folder)`` counts
    them): ``root/images``, the other folders of ``root``, the export's folder, then
    ``root``, in that order among equals (a folder of ``root`` that holds them all is the
    images folder, though ``root`` holds them too). None when none holds any."""
    candidates = [root / "images"]
    if root.is_dir():
        candidates += sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    candidates += [export.parent, root]
    best, best_count = None, 0
    for folder in dict.fromkeys(candidates):
        if folder.is_dir():
            count = found(folder)
            if count > best_count:
                best, best_count = folder, count
    return best


def image_dir_option(root: Path, images: str | os.PathLike | None, export: Path,
                     found: Callable[[Path], int], kind: str) -> Path:
    """The images folder: ``root / images`` when ``images`` is given, else :func:`choose_images_folder`.

    Raises:
        DataError: the folder given does not exist, or none holds the export's images.
    """
    if images is not None:
        folder = root / images
        if not folder.is_dir():
            raise DataError(f"{root}: the images folder {images} of the {kind} export does not exist")
        return folder
    folder = choose_images_folder(root, export, found)
    if folder is None:
        raise DataError(f"{export}: none of its images is in {root} or a folder of it; give the folder as images:")
    return folder


class Rasteriser:
    """``read_fn`` of the label datastore: image path -> raw label IDs (H x W int64).

    ``entries`` maps each image's absolute path to what the subclass's :meth:`draw` needs.
    Plain data only, so it pickles into DataLoader worker processes.
    """

    def __init__(self, entries: dict[str, Any], source: Path):
        self.entries = entries
        self.source = source

    def __call__(self, path: str) -> np.ndarray:
        return self.draw(self.entries[os.path.abspath(path)])

    def draw(self, entry: Any) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


def _listing(names: Sequence[str]) -> str:
    return ", ".join(map(str, names[:5])) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def export_pairs(images_dir: Path, found: list[tuple[Path, Any]], missing: list[str], rasteriser: type[Rasteriser],
                 source: Path, class_set: ClassSet, unpaired: str = "error") -> PairedDatastore:
    """The PairedDatastore of an export.

    Args:
        images_dir: the images folder (pair names are relative to it).
        found: ``(image path, entry)`` for each image of the export, in its order.
        missing: the export's image names that are not in ``images_dir``.
        rasteriser: the Rasteriser subclass that draws an entry. source: the export file.
        unpaired: ``"error"`` (default), ``"warn"`` or ``"ignore"`` the missing images.

    Raises:
        DataError: missing images (by default; naming them, the export and the folder), no
        image at all, two images with the same name.
    """
    if unpaired not in ("error", "warn", "ignore"):
        raise ConfigurationError(f"unpaired must be 'error', 'warn' or 'ignore', got {unpaired!r}")
    if missing:
        message = f"{source}: {len(missing)} image(s) not found in {images_dir}: {_listing(missing)}"
        if unpaired == "error" or not found:
            raise DataError(message + ("; pass unpaired='warn' or 'ignore' to leave them out" if found else ""))
        if unpaired == "warn":
            warnings.warn(message + "; they were left out", UnpairedFilesWarning, stacklevel=3)
    if not found:
        raise DataError(f"{source}: no annotated image")
    files = [str(p) for p, _ in found]
    names = relative_keys(files, images_dir)
    check_names_unique(names, files, f"{source} (images)")
    draw = rasteriser({os.path.abspath(p): entry for p, entry in found}, source)
    labels = PixelLabelDatastore(files, class_set, read_fn=draw)
    return PairedDatastore(ImageDatastore(files), labels, names=names)


def image_index(folder: Path) -> dict[str, list[Path]]:
    """Image files below ``folder`` (subfolders too) by file name."""
    index: dict[str, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."):
                index.setdefault(name, []).append(Path(dirpath) / name)
    return index


def polygon_mask(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """H x W bool: the pixels whose centre ``(x + 0.5, y + 0.5)`` lies inside the polygon
    (even-odd rule), ``points`` an N x 2 array of ``(x, y)`` in pixels with ``(0, 0)`` the
    image's top-left corner. The square with corners (2, 2) and (6, 6) covers the 16 pixels
    of rows and columns 2..5, as pycocotools draws COCO polygons."""
    out = np.zeros((height, width), dtype=bool)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(points) < 3 or not np.isfinite(points).all():
        return out
    x0, y0 = (max(int(np.floor(v)), 0) for v in points.min(axis=0))
    x1, y1 = (int(np.ceil(v)) for v in points.max(axis=0))
    x1, y1 = min(x1, width), min(y1, height)
    if x0 >= x1 or y0 >= y1:
        return out
    yy, xx = np.mgrid[y0:y1, x0:x1] + 0.5
    inside = np.zeros(yy.shape, dtype=bool)
    for (xa, ya), (xb, yb) in zip(points, np.roll(points, -1, axis=0), strict=True):
        if ya == yb:
            continue
        crosses = (ya > yy) != (yb > yy)
        x_at = xa + (yy - ya) * (xb - xa) / (yb - ya)
        inside ^= crosses & (xx < x_at)
    out[y0:y1, x0:x1] = inside
    return out
