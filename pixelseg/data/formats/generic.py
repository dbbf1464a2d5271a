"""The generic layout: ``root/images/`` + ``root/labels/`` + ``root/classes.json``.

This is what ``pixelseg label`` writes. Common variants are accepted as well: image/label
folder pairs named ``img_dir``/``ann_dir`` (MMSegmentation), ``images``/``masks``,
``image``/``label``, ``imgs``/``annotations``, and a class file ``classes.yaml`` /
``classes.yml`` / ``classes.txt``. Label files may carry a suffix (``_L``, ``_mask``, ...),
which is detected from the file names.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import combine
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.files import list_files, stem
from pixelseg.data.io import IMAGE_EXTENSIONS, LABEL_EXTENSIONS
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import DataError

__all__ = ["FOLDER_PAIRS", "CLASS_FILES", "LABEL_SUFFIXES", "find_folder_pair", "find_class_file", "guess_label_suffix", "read_generic"]

FOLDER_PAIRS = (
    ("images", "labels"), ("images", "masks"), ("images", "annotations"), ("image", "label"),
    ("image", "mask"), ("img_dir", "ann_dir"), ("imgs", "annotations"), ("img", "gt"),
)  # fmt: skip
CLASS_FILES = ("classes.json", "classes.yaml", "classes.yml", "classes.txt")
LABEL_SUFFIXES = ("", "_L", "_label", "_labels", "_mask", "_gt", "_seg", "_segmentation", "_annotation", "_labelIds")


def find_folder_pair(root: Path) -> tuple[Path, Path] | None:
    """The first (images, labels) folder pair of :data:`FOLDER_PAIRS` present in root."""
    for image_name, label_name in FOLDER_PAIRS:
        if (root / image_name).is_dir() and (root / label_name).is_dir():
            return root / image_name, root / label_name
    return None


def find_class_file(*folders: Path) -> Path | None:
    """The first class file of :data:`CLASS_FILES` in the given folders."""
    for folder in folders:
        for name in CLASS_FILES:
            if (folder / name).is_file():
                return folder / name
    return None


def guess_label_suffix(image_files: Sequence[str], label_files: Sequence[str]) -> str:
    """The suffix of :data:`LABEL_SUFFIXES` under which most label stems match image stems."""
    image_stems = {stem(f) for f in image_files}
    label_stems = [stem(f) for f in label_files]
    best, best_hits = "", -1
    for suffix in LABEL_SUFFIXES:
        hits = sum(1 for s in label_stems if s.endswith(suffix) and s[: len(s) - len(suffix)] in image_stems)
        if hits > best_hits:
            best, best_hits = suffix, hits
    return best


def read_generic(
    root: str | os.PathLike,
    class_set: ClassSet | str | os.PathLike | None = None,
    label_suffix: str | None = None,
    unpaired: str = "error",
    image_dir: str | None = None,
    label_dir: str | None = None,
) -> PairedDatastore:
    """Read ``root/images`` + ``root/labels`` (or a variant, see the module doc), subfolders
    included, with the class set from ``class_set`` or the class file in root.

    image_dir, label_dir: the folder names (relative to root); default the first pair of
    :data:`FOLDER_PAIRS` present. label_suffix: default guessed from the file names.

    Raises:
        DataError: no folder pair, no class file, unpaired files (by default).
    """
    root = Path(root)
    pair = find_folder_pair(root)
    if image_dir is not None or label_dir is not None:
        pair = (root / (image_dir or "images"), root / (label_dir or "labels"))
        if not (pair[0].is_dir() and pair[1].is_dir()):
            raise DataError(f"{root}: needs the folders {pair[0].name}/ and {pair[1].name}/")
    if pair is None:
        wanted = ", ".join(f"{a}/ + {b}/" for a, b in FOLDER_PAIRS)
        raise DataError(f"{root}: no image and label folders found (looked for {wanted})")
    image_dir, label_dir = pair
    if class_set is None:
        class_file = find_class_file(root, label_dir)
        if class_file is None:
            raise DataError(f"{root}: no {' / '.join(CLASS_FILES)}; pass the class definitions (--classes)")
        class_set = class_file
    image_files = list_files(image_dir, True, None, IMAGE_EXTENSIONS, "image files")
    label_files = list_files(label_dir, True, None, LABEL_EXTENSIONS, "label files")
    if label_suffix is None:
        label_suffix = guess_label_suffix(image_files, label_files)
    return combine(
        ImageDatastore(image_files),
        PixelLabelDatastore(label_files, class_set),
        label_suffix=label_suffix,
        unpaired=unpaired,
    )
