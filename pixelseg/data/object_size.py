"""How wide each class's regions are, in pixels: thin structures against blobs.

For a pixel inside a region, ``d`` is the distance from its centre to the centre of the
nearest pixel outside the region (or outside the image: a region cut by the border is
measured no wider than what is visible). Over a stripe ``w`` pixels wide the mean of ``d``
is about ``(w + 2) / 4``, so the width of a class is taken as ``4 * mean(d) - 2`` over all its
pixels: the width of a stripe (exactly for even widths), two thirds of the diameter of a disc. The
mean is over pixels, so ragged edges and small specks hardly move it. It tells thin
structures (membranes, poles, cracks, vessels, roads in aerial tiles: a few pixels) from
blobs (cars, cells, buildings: tens to hundreds); the automatic recipe uses it to decide how
far images may be scaled down.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixelseg.data.statistics import _label_datastore

__all__ = ["class_widths", "region_width_sum"]


def region_width_sum(mask: np.ndarray) -> tuple[float, int]:
    """``(sum of d, pixel count)`` over the True pixels of ``mask`` (H x W bool), ``d`` as in
    the module docstring (Euclidean, pixel centres)."""
    from scipy import ndimage

    mask = np.asarray(mask, dtype=bool)
    count = int(mask.sum())
    if count == 0:
        return 0.0, 0
    distance = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    return float(distance[mask].sum()), count


def class_widths(ds: Any, max_files: int = 12, window: int = 1024) -> np.ndarray:
    """Typical width of each class's regions, in pixels at the files' own resolution.

    Args:
        ds: a PixelLabelDatastore or a PairedDatastore (its labels).
        max_files: read at most this many label files, evenly spread over the datastore.
        window: a label larger than ``window`` on a side is measured in its central
            ``window`` x ``window`` pixels (at full resolution, so thin classes stay thin),
            which bounds the time on large tiles.

    Returns:
        (K,) float64: per class ``max(1, 4 * mean(d) - 2)`` over its pixels in the files read
        (see the module docstring); NaN for a class absent from them. Void pixels are
        outside every class.
    """
    labels = _label_datastore(ds)
    k = labels.class_set.num_classes
    n = len(labels)
    picks = np.unique(np.linspace(0, n - 1, min(max_files, n)).round().astype(int)) if n else []
    sums, counts = np.zeros(k), np.zeros(k)
    for i in picks:
        label = labels.read(int(i))
        y0, x0 = (max(0, (side - window) // 2) for side in label.shape[:2])
        label = label[y0:y0 + window, x0:x0 + window]
        for c in np.unique(label):
            if c < k:
                s, m = region_width_sum(label == c)
                sums[c] += s
                counts[c] += m
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, np.maximum(1.0, 4.0 * sums / counts - 2.0), np.nan)
