"""Regions of interest (field-of-view masks): which pixels of an image count.

A region mask is an H x W image the size of its image: **any nonzero value is inside**, zero
is outside (a colour mask: inside where any colour channel is nonzero; alpha is ignored;
palette files by their colours, so a GIF whose palette maps index 0 to white reads white as
inside). DRIVE's ``mask/21_training_mask.gif`` is one: the round field of view of a retina
photograph.

Pixels outside the region are made void (:data:`~pixelseg.conventions.VOID`, 255) in the
label maps, so the loss, :func:`~pixelseg.data.count_each_label`, the metrics and the
predictions (``semanticseg(..., roi=...)``) leave them out.

A region is given in one of these forms (:func:`as_region`):

- a mask file (PNG, GIF, BMP, TIFF, ``.npy``, ...);
- an H x W array: bool, or numbers where nonzero is inside (H x W x 3 colours too);
- a rectangle ``(x, y, width, height)`` in **0-based** pixel coordinates: columns
  ``x .. x + width - 1`` and rows ``y .. y + height - 1`` (MATLAB's ``[x y width height]``
  is 1-based: subtract 1 from its x and y). It must lie inside the image.
"""

from __future__ import annotations

import functools
import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["read_region_mask", "void_outside", "as_region", "is_rectangle", "rectangle_mask", "per_item_regions"]


def _size(shape: Sequence[int]) -> str:
    return f"{shape[0]} x {shape[1]}"


def _nonzero(values: np.ndarray, source: str) -> np.ndarray:
    """H x W bool of an H x W (x C) array: any (colour) channel nonzero; alpha (4th) ignored."""
    values = np.asarray(values)
    if values.ndim == 3 and values.shape[2] in (1, 2, 3, 4):
        values = values[..., : 3 if values.shape[2] >= 3 else 1]
        return np.any(values != 0, axis=2)
    if values.ndim != 2:
        raise DataError(f"{source}: a region mask must be H x W (or H x W x 3), got shape {values.shape}")
    if values.dtype.kind not in "biuf":
        raise DataError(f"{source}: a region mask must hold numbers or booleans, got {values.dtype}")
    return values != 0


@functools.lru_cache(maxsize=16)
def _cached_mask(path: str, mtime_ns: int, size: int) -> np.ndarray:
    from pixelseg.data.io import read_label_raw

    mask = _nonzero(read_label_raw(path, palette="colors"), path)
    mask.flags.writeable = False
    return mask


def _check_shape(mask: np.ndarray, shape: Sequence[int] | None, source: str, what: str = "image") -> np.ndarray:
    if shape is not None and tuple(mask.shape[:2]) != tuple(shape[:2]):
        raise DataError(f"{source}: the region mask is {_size(mask.shape)} (H x W) but the {what} is "
                        f"{_size(shape)}; they must match")
    return mask


def read_region_mask(path: str | os.PathLike, shape: Sequence[int] | None = None) -> np.ndarray:
    """Read a region mask file as H x W bool (True inside: any nonzero value or colour channel).

    Args:
        path: a mask file (any label file format; JPEG is refused, its artefacts are nonzero).
        shape: (H, W) the mask must have (the image's), or None.

    Returns:
        H x W bool, read-only (cached by file, size and modification time: one mask shared
        by every image is decoded once per process).

    Raises:
        FileNotFoundError: no such file.
        DataError: unreadable, not H x W (x 3), or not of ``shape``, naming the file and both sizes.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"region mask {path} does not exist")
    stat = os.stat(path)
    return _check_shape(_cached_mask(path, stat.st_mtime_ns, stat.st_size), shape, path)


def is_rectangle(value: Any) -> bool:
    """True for ``(x, y, width, height)``: a tuple/list of 4 real numbers (not booleans)."""
    return (isinstance(value, (tuple, list)) and len(value) == 4
            and all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in value))


def rectangle_mask(rect: Sequence[float], shape: Sequence[int], source: str = "roi") -> np.ndarray:
    """H x W bool, True inside the rectangle ``(x, y, width, height)`` (0-based columns and rows).

    Raises:
        ConfigurationError: values that are not whole numbers, a width or height below 1, or
            a rectangle that reaches beyond the H x W image (naming both, and the 0-based rule).
    """
    if not all(float(v).is_integer() for v in rect):
        raise ConfigurationError(f"{source}: (x, y, width, height) must be whole pixels, got {tuple(rect)}")
    x, y, w, h = (int(v) for v in rect)
    height, width = int(shape[0]), int(shape[1])
    if w < 1 or h < 1:
        raise ConfigurationError(f"{source}: width and height must be at least 1, got (x, y, width, height) = {(x, y, w, h)}")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise ConfigurationError(
            f"{source}: the rectangle (x, y, width, height) = {(x, y, w, h)} reaches beyond the image of "
            f"{width} x {height} (W x H); coordinates are 0-based (MATLAB's are 1-based: subtract 1 from x and y)"
        )
    mask = np.zeros((height, width), dtype=bool)
    mask[y:y + h, x:x + w] = True
    return mask


def as_region(value: Any, shape: Sequence[int], source: str = "region") -> np.ndarray | None:
    """The H x W bool region of one image from any accepted form (see the module docstring);
    None stays None (every pixel counts).

    Args:
        value: a mask file path, an H x W (x 3) array, a rectangle ``(x, y, width, height)``, or None.
        shape: the image's (H, W).
        source: what to name in errors (the image).

    Raises:
        FileNotFoundError / DataError: as :func:`read_region_mask`; an array of another size.
        ConfigurationError: a bad rectangle, or a value of another kind.
    """
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        return read_region_mask(value, shape)
    if is_rectangle(value):
        return rectangle_mask(value, shape, source)
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return _check_shape(_nonzero(value, source), shape, source)
    raise ConfigurationError(
        f"{source}: a region must be a mask file, an H x W array or a rectangle (x, y, width, height); "
        f"got {type(value).__name__}"
    )


def per_item_regions(regions: Any, count: int | None, what: str = "regions") -> list[Any] | Any:
    """One region value per item: a list (or tuple that is not a rectangle) must hold
    ``count`` entries (None: no region for that item); anything else is one region for all.

    Returns:
        The list, or the single value (the caller uses it for every item).

    Raises:
        ConfigurationError: a list of another length than ``count`` (when known).
    """
    if isinstance(regions, (list, tuple)) and not is_rectangle(regions):
        if count is not None and len(regions) != count:
            raise ConfigurationError(f"{what}: {len(regions)} regions given for {count} images; give one per image "
                                     "(None for an image without one), or one region for all")
        return list(regions)
    return regions


def void_outside(labels: np.ndarray, region: np.ndarray | None) -> np.ndarray:
    """``labels`` with every pixel outside ``region`` set to void (255).

    Args:
        labels: H x W (or N x H x W) integer class indices, e.g. uint8.
        region: H x W bool (True inside), or None (labels returned unchanged).

    Returns:
        A new array of the labels' dtype (``labels`` itself when ``region`` is None).

    Raises:
        DataError: the sizes differ (both named).

    Examples:
        >>> import numpy as np
        >>> from pixelseg.data.regions import void_outside
        >>> void_outside(np.array([[0, 1], [1, 0]], np.uint8), np.array([[True, False], [True, True]]))
        array([[  0, 255],
               [  1,   0]], dtype=uint8)
    """
    if region is None:
        return labels
    labels = np.asarray(labels)
    region = np.asarray(region, dtype=bool)
    if labels.shape[-2:] != region.shape:
        raise DataError(f"the labels are {_size(labels.shape[-2:])} (H x W) but the region mask is "
                        f"{_size(region.shape)}; they must match")
    return np.where(region, labels, np.asarray(VOID).astype(labels.dtype))

