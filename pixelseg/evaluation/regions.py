"""Regions for ``evaluate_semantic_segmentation(..., regions=...)``: only the pixels inside
each image's region count.

Outside its region an image's pixels are left out of the confusion matrix (hence of every
accuracy and IoU) and treated as void by the BF score (in the truth and the prediction
alike, so a predicted boundary outside counts for nothing). A prediction may hold void
(255) outside its region, as ``semanticseg(..., roi=...)`` writes it; inside, a predicted
255 is still an error.

Forms (:func:`pixelseg.data.regions.as_region`): a mask file, an H x W bool or 0/1 array, or
a rectangle ``(x, y, width, height)`` (0-based), one for all images; or a list with one per
image in evaluation order (None: the whole image).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.data.regions import as_region, per_item_regions
from pixelseg.errors import ConfigurationError

__all__ = ["EvaluationRegions", "outside_excluded"]


class EvaluationRegions:
    """The region of the i-th image evaluated.

    Args:
        regions: one region for all images, or a list with one per image.
        count: the number of images when known (a list must match it), else None.

    Raises:
        ConfigurationError: a list of another length than ``count``.
    """

    def __init__(self, regions: Any, count: int | None) -> None:
        self._items = per_item_regions(regions, count, "regions")

    def mask(self, i: int, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
        """Image i's region as H x W bool (True inside), or None.

        Raises:
            ConfigurationError: the list holds fewer regions than there are images.
            DataError / FileNotFoundError: as :func:`~pixelseg.data.regions.as_region`.
        """
        if isinstance(self._items, list):
            if i >= len(self._items):
                raise ConfigurationError(f"regions holds {len(self._items)} regions but there are more images "
                                         f"({name} is image {i})")
            value = self._items[i]
        else:
            value = self._items
        return as_region(value, shape[-2:], f"{name}: regions")

    def check_count(self, n: int) -> None:
        """ConfigurationError when a list holds more regions than the ``n`` images evaluated."""
        if isinstance(self._items, list) and len(self._items) != n:
            raise ConfigurationError(f"regions holds {len(self._items)} regions for {n} images")


def outside_excluded(pred: np.ndarray, truth: np.ndarray, region: np.ndarray | None,
                     void: int = VOID) -> tuple[np.ndarray, np.ndarray]:
    """(prediction, truth) of one image with the pixels outside ``region`` excluded: the
    truth is ``void`` there, which leaves those pixels out of the confusion matrix and the BF
    score (:func:`pixelseg.evaluation.bfscore.bf_score` does not score predictions at void
    truth pixels); the prediction is 0 there, a valid class index for counting. Arrays
    unchanged when ``region`` is None.

    Examples:
        >>> import numpy as np
        >>> pred = np.array([[1, 255]], np.uint8)
        >>> truth = np.array([[1, 0]], np.uint8)
        >>> counted, true = outside_excluded(pred, truth, np.array([[True, False]]))
        >>> counted.tolist(), true.tolist()
        ([[1, 0]], [[1, 255]])
    """
    if region is None:
        return pred, truth
    # Python ints keep the arrays' dtypes (NumPy 2 promotion)
    return np.where(region, pred, 0), np.where(region, truth, void)
