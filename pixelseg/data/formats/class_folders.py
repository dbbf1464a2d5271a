"""Class from folder name: one folder of binary masks per class (defect type).

Layout (``layout: class_folders``)::

    root/<image_dir>/0001.png            images (flat, or in subfolders named like the classes)
    root/<label_dir>/<class>/0001.png    binary masks: foreground = that folder's class

Options: ``image_dir`` (default ``images``), ``label_dir`` (default ``masks``),
``label_suffix`` (removed from the mask stems, e.g. ``_mask``), ``threshold`` (a mask
pixel is foreground when its value is >= threshold; default 128, and 1 for masks that hold
only 0 and 1; colour masks use their brightest channel).

Classes: ``background`` (index 0, every pixel outside the foreground) then the class
folders in natural order; a given class set instead must name every folder. Images are
paired with masks by stem when the images are flat, by ``<class>/<stem>`` when the images
sit in class subfolders too (MVTec AD style). An image with masks in two class folders is
an error naming both.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import pair_by_keys, relative_keys
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.files import list_files, natural_sorted
from pixelseg.data.io import IMAGE_EXTENSIONS, LABEL_EXTENSIONS, read_label_raw
from pixelseg.data.pairing import PairedDatastore
from pixelseg.data.palettes import voc_colormap
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["BACKGROUND", "ClassFolderReader", "class_folder_names", "read_class_folders"]

BACKGROUND = "background"


def class_folder_names(label_root: Path) -> list[str]:
    """The class folders below ``label_root``, in natural order (hidden ones skipped)."""
    return natural_sorted(p.name for p in label_root.iterdir() if p.is_dir() and not p.name.startswith("."))


class ClassFolderReader:
    """``read_fn`` of the masks: raw id of the mask's class folder on the foreground, the
    background id elsewhere (H x W int64). Picklable (DataLoader workers)."""

    def __init__(self, label_root: str, ids: dict[str, int], background: int, threshold: int | None = None) -> None:
        self.label_root, self.ids, self.background, self.threshold = label_root, ids, background, threshold

    def __call__(self, path: str) -> np.ndarray:
        folder = os.path.relpath(path, self.label_root).split(os.sep)[0]
        raw = read_label_raw(path)
        if raw.ndim == 3:
            raw = raw.max(axis=2)
        threshold = self.threshold if self.threshold is not None else (1 if raw.max(initial=0) <= 1 else 128)
        out = np.full(raw.shape, self.background, dtype=np.int64)
        out[raw >= threshold] = self.ids[folder]
        return out


def read_class_folders(
    root: str | os.PathLike,
    class_set: ClassSet | None = None,
    unpaired: str = "error",
    image_dir: str = "images",
    label_dir: str = "masks",
    label_suffix: str = "",
    threshold: int | None = None,
) -> dict[str, PairedDatastore]:
    """Read the class-folder layout (see the module doc).

    Returns:
        ``{"all": PairedDatastore}`` whose class set is background + the class folders.

    Raises:
        DataError: missing folders, no class folder, unpaired files (by default), two masks
        for one image. ConfigurationError: a class set that lacks a folder's name.
    """
    root = Path(root)
    image_root, label_root = root / image_dir, root / label_dir
    for folder in (image_root, label_root):
        if not folder.is_dir():
            raise DataError(f"{root}: the class_folders layout needs the folder {folder.name}/")
    names = class_folder_names(label_root)
    if not names:
        raise DataError(f"{label_root}: no class folders (one folder of binary masks per class)")
    if class_set is None:
        class_set = ClassSet([BACKGROUND, *names], colors=voc_colormap(len(names) + 1))
    missing = [n for n in names if n not in class_set.names]
    if missing or class_set.id_type != "grey":
        raise ConfigurationError(f"the class set must have grey ids and name every class folder of {label_root}; "
                                 f"missing {missing}")  # fmt: skip
    ids = {n: class_set.label_ids[class_set.names.index(n)][0] for n in names}
    images = list_files(image_root, True, None, IMAGE_EXTENSIONS, "image files")
    labels = list_files(label_root, True, None, LABEL_EXTENSIONS, "label files")
    flat = all(os.path.dirname(f) == str(image_root) for f in images)
    image_keys = relative_keys(images, image_root)
    label_keys = relative_keys(labels, label_root, label_suffix, drop=1 if flat else 0)
    reader = ClassFolderReader(str(label_root), ids, class_set.label_ids[0][0], threshold)
    pxds = PixelLabelDatastore(labels, class_set, read_fn=reader)
    how = f"pairing by {'stem' if flat else 'class folder and stem'} with label_suffix={label_suffix!r}"
    return {"all": pair_by_keys(ImageDatastore(images), pxds, image_keys, label_keys, unpaired, how)}
