"""The reading options of label files, from file to class indices.

:class:`LabelReader` holds the options that :class:`~pixelseg.data.PixelLabelDatastore` and
:func:`~pixelseg.data.io.read_label` accept, each a plain keyword (the names a YAML ``data:``
block uses):

=================  ==================  =====================================================
option             type, default       meaning
=================  ==================  =====================================================
``tolerance``      int 0..32, 0        snap near-miss values (:mod:`pixelseg.data.snapping`)
``threshold``      number or None      two-class grey masks: values >= threshold are the
                                       class with the larger label ID, lower values the
                                       other (anti-aliased binary masks)
``palette``        str, ``"auto"``     palette files: ``"auto"`` = colours when the class set
                                       declares RGB IDs; with grey IDs the indices, or the
                                       grey values of a grey palette when only those are
                                       declared IDs (a 0/255 GIF mask); ``"indices"``;
                                       ``"colors"``; ``"grey"``
``alpha_void``     bool, True          pixels of alpha 0 (RGBA, grey + alpha, transparent
                                       palette entries read as colours) are void
``mat_variable``   str or None         the array of a ``.mat`` file (e.g.
                                       ``"groundTruth/0/Segmentation"``)
``allow_jpeg``     bool, False         read JPEG label files
=================  ==================  =====================================================
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.data.label_files import PALETTE_MODES, decode_label_file
from pixelseg.data.snapping import SnapLog, check_tolerance
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["LABEL_READ_OPTIONS", "LabelReader", "apply_threshold"]

#: The option names and their defaults.
LABEL_READ_OPTIONS: dict[str, Any] = {
    "tolerance": 0, "threshold": None, "palette": "auto", "alpha_void": True, "mat_variable": None,
    "allow_jpeg": False,
}


#: Label file types that may hold a palette.
_PALETTE_SUFFIXES = (".png", ".gif", ".bmp", ".tif", ".tiff")


def _declared_grey(class_set) -> set[int]:
    """Every grey label ID and void ID of ``class_set``."""
    ids = {v for group in class_set.label_ids for v in group} | set(class_set.void_ids)
    return {int(v) for v in ids if not isinstance(v, tuple)}


def _all_in(values: np.ndarray, declared: set[int]) -> bool:
    """Whether every value of an integer array is in ``declared``."""
    if values.ndim != 2 or values.dtype.kind not in "iu":
        return False
    present = np.flatnonzero(np.bincount(values.reshape(-1))) if values.dtype == np.uint8 else np.unique(values)
    return set(present.tolist()) <= declared


def apply_threshold(values: np.ndarray, class_set, threshold: float, source: str) -> np.ndarray:
    """Two-class grey values -> class indices: values >= ``threshold`` are the class whose
    (first) label ID is larger, the others the other class; values equal to a void ID are
    :data:`~pixelseg.conventions.VOID`.

    Raises:
        DataError: a colour mask whose R, G and B differ, or non-numeric values.
    """
    if values.ndim == 3:
        if not (np.array_equal(values[:, :, 0], values[:, :, 1]) and np.array_equal(values[:, :, 0], values[:, :, 2])):
            raise DataError(f"{source}: threshold reads grey masks, but the file holds colours (R, G, B differ)")
        values = values[:, :, 0]
    if values.dtype.kind not in "biuf":
        raise DataError(f"{source}: label array has dtype {values.dtype}; expected numbers")
    firsts = [ids[0] for ids in class_set.label_ids]
    high = int(np.argmax(firsts))
    out = np.where(values >= threshold, high, 1 - high).astype(np.uint8)
    if class_set.void_ids:
        out[np.isin(values, class_set.void_ids)] = VOID
    return out


class LabelReader:
    """How label files become class indices (see the module docstring for the options).

    Raises:
        ConfigurationError: an option of the wrong type or value (naming it).
    """

    def __init__(self, tolerance: int = 0, threshold: float | None = None, palette: str = "auto",
                 alpha_void: bool = True, mat_variable: str | None = None, allow_jpeg: bool = False) -> None:
        self.tolerance = check_tolerance(tolerance)
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number))
                                      or not np.isfinite(threshold)):
            raise ConfigurationError(f"threshold must be a number or None, got {threshold!r}")
        self.threshold = threshold
        if palette not in ("auto", *PALETTE_MODES):
            raise ConfigurationError(f"palette must be one of {('auto', *PALETTE_MODES)}, got {palette!r}")
        self.palette = palette
        for name, value in (("alpha_void", alpha_void), ("allow_jpeg", allow_jpeg)):
            if not isinstance(value, (bool, np.bool_)):
                raise ConfigurationError(f"{name} must be true or false, got {value!r}")
        self.alpha_void = bool(alpha_void)
        self.allow_jpeg = bool(allow_jpeg)
        if mat_variable is not None and not isinstance(mat_variable, str):
            raise ConfigurationError(f"mat_variable must be a string such as 'groundTruth/0/Segmentation', "
                                     f"got {mat_variable!r}")
        self.mat_variable = mat_variable
        self._grey_palettes = False

    def options(self) -> dict[str, Any]:
        """The options that differ from the defaults (name -> value)."""
        return {k: getattr(self, k) for k, v in LABEL_READ_OPTIONS.items() if getattr(self, k) != v}

    def checked(self, class_set):
        """``class_set`` if the options suit it; ConfigurationError otherwise (a threshold
        needs two classes with grey IDs)."""
        if self.threshold is not None and (class_set.num_classes != 2 or class_set.id_type != "grey"):
            raise ConfigurationError(
                f"threshold reads two-class grey masks, but the class set has {class_set.num_classes} classes "
                f"with {class_set.id_type} label ids"
            )
        return class_set

    def palette_mode(self, class_set) -> str:
        """``"colors"``, ``"grey"`` or ``"indices"``: how palette files are read for ``class_set``
        (``"auto"``: colours for RGB IDs, grey values with a threshold, else indices)."""
        if self.palette != "auto":
            return self.palette
        if class_set is not None and class_set.id_type == "rgb":
            return "colors"
        return "grey" if self.threshold is not None else "indices"  # a threshold compares grey values

    def read_values(self, path: str | os.PathLike, class_set=None) -> tuple[np.ndarray, np.ndarray | None]:
        """The file's values (palette decoded as :meth:`palette_mode` says) and its alpha."""
        mode = self.palette_mode(class_set)
        if self.palette == "auto" and mode == "indices" and class_set is not None:
            return self._indices_or_grey(Path(path), class_set)
        return decode_label_file(Path(path), self.allow_jpeg, mode, self.mat_variable)

    def _indices_or_grey(self, path: Path, class_set) -> tuple[np.ndarray, np.ndarray | None]:
        """``palette="auto"`` with grey IDs: a palette file's indices, or its grey values when
        only those are all declared IDs (the choice is remembered for the next files)."""
        first, second = ("grey", "indices") if self._grey_palettes else ("indices", "grey")
        values, alpha = decode_label_file(path, self.allow_jpeg, first, self.mat_variable)
        declared = _declared_grey(class_set)
        if path.suffix.lower() not in _PALETTE_SUFFIXES or _all_in(values, declared):
            return values, alpha
        other, other_alpha = decode_label_file(path, self.allow_jpeg, second, self.mat_variable)
        if not np.array_equal(other, values) and _all_in(other, declared):
            self._grey_palettes = second == "grey"
            return other, other_alpha
        return values, alpha

    def encode(self, values: np.ndarray, alpha: np.ndarray | None, class_set, source: str,
               snaps: SnapLog | None = None) -> np.ndarray:
        """Values (and alpha) -> H x W uint8 class indices, void 255."""
        transparent = alpha == 0 if alpha is not None and self.alpha_void else None
        if transparent is not None and not transparent.any():
            transparent = None
        if self.threshold is not None:
            out = apply_threshold(np.asarray(values), class_set, self.threshold, source)
        else:
            fill = class_set.label_ids[0][0]  # any declared ID: these pixels become void below
            if transparent is not None and (np.ndim(values) == 3 or not isinstance(fill, tuple)):
                values = np.array(values, copy=True)
                values[transparent] = fill
            out = class_set.encode(values, source=source, tolerance=self.tolerance, snaps=snaps)
        if transparent is not None:
            out[transparent] = VOID
        return out

    def read(self, path: str | os.PathLike, class_set, snaps: SnapLog | None = None) -> np.ndarray:
        """Label file -> H x W uint8 class indices (void 255).

        Raises:
            FileNotFoundError: no such file. DataError: as
            :func:`~pixelseg.data.label_files.decode_label_file` and
            :meth:`~pixelseg.data.ClassSet.encode`.
        """
        values, alpha = self.read_values(path, class_set)
        return self.encode(values, alpha, class_set, str(path), snaps)
