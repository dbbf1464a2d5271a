"""Checks of image pixel values shared by semanticseg and the torch-free OnnxSegmenter.

NumPy only: :mod:`pixelseg.export.runtime` imports it without torch.
"""

from __future__ import annotations

import numpy as np


def check_image_pixels(arr: np.ndarray, source: str, error: type[Exception] = ValueError) -> None:
    """An image (... x H x W x C) must not be empty, and a float one must hold finite values
    in [0, 1] (uint8 / 255).

    Raises:
        error: naming ``source`` and the size, the count of NaN/infinite values, or the
            range found.
    """
    h, w = arr.shape[-3], arr.shape[-2]
    if h == 0 or w == 0:
        raise error(f"{source} is empty: its size is {h} x {w} pixels")
    if not np.issubdtype(arr.dtype, np.floating):
        return
    finite = np.isfinite(arr)
    if not finite.all():
        raise error(f"{source} has {int(arr.size - finite.sum())} NaN or infinite value(s); "
                    "a float image must hold finite values in [0, 1]")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > 1:
        raise error(f"{source} is a float image with values in [{lo:g}, {hi:g}]; float images must hold "
                    "values in [0, 1] (uint8 / 255)")
