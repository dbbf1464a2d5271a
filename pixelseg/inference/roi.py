"""Regions of interest for ``semanticseg(..., roi=...)`` (MATLAB ``semanticseg(I, net, roi)``).

The network labels the whole image (it sees the context around the region); afterwards
every pixel outside the region is void (:data:`~pixelseg.conventions.VOID`, 255) in the
label map, and its scores are 0. Written label PNGs hold 255 there, and the datastore
``semanticseg`` returns reads those pixels back as void.

The forms of a region are those of :func:`pixelseg.data.regions.as_region`: a rectangle
``(x, y, width, height)`` in 0-based pixel coordinates (MATLAB's are 1-based), an H x W
bool or 0/1 array (nonzero is inside), or a mask file; one for every image, or a list with
one per image (None: no region for that image).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.data.regions import as_region, per_item_regions

__all__ = ["RegionsOfInterest", "regions_of_interest"]


class RegionsOfInterest:
    """The region of each of ``count`` images, applied to their results by index.

    Args:
        roi: one region for all images, or a list of one per image (see the module docstring).
        count: the number of images (checked against a list).
        names: the images' names for error messages (default ``image <i>``).

    Raises:
        ConfigurationError: a list of another length than ``count``.
    """

    def __init__(self, roi: Any, count: int, names: Sequence[str] | None = None) -> None:
        self._items = per_item_regions(roi, count, "roi")
        self._names = list(names) if names is not None else None

    def _value(self, i: int) -> Any:
        return self._items[i] if isinstance(self._items, list) else self._items

    def mask(self, i: int, shape: Sequence[int]) -> np.ndarray | None:
        """Image i's region as H x W bool (True inside), or None.

        Raises:
            DataError / FileNotFoundError / ConfigurationError: as
            :func:`~pixelseg.data.regions.as_region`, naming image i.
        """
        name = self._names[i] if self._names is not None else f"image {i}"
        return as_region(self._value(i), shape, f"roi of {name}")

    def apply(self, i: int, labels: np.ndarray, probs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(labels H x W, probs K x H x W or None) of image i with the outside void / 0."""
        region = self.mask(i, labels.shape[-2:])
        if region is None:
            return labels, probs
        labels = np.where(region, labels, np.asarray(VOID, labels.dtype))
        if probs is not None:
            probs = np.where(region, probs, np.asarray(0, probs.dtype))
        return labels, probs


def regions_of_interest(roi: Any, count: int, names: Sequence[str] | None = None) -> RegionsOfInterest | None:
    """:class:`RegionsOfInterest` of ``roi``, or None when ``roi`` is None."""
    return None if roi is None else RegionsOfInterest(roi, count, names)
