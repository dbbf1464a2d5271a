"""SLIC superpixels for the labeling app (scikit-image ``slic``).

For speed the image is shrunk (area averaging) so that its longer side is at most
``max_side`` pixels, SLIC runs there, and the segment map is brought back to full size
by nearest-neighbour sampling at pixel centres. On a 4000 x 3000 photo this takes about
1 to 2 s with the defaults (bench/bench_labeling.py), against tens of seconds at full
size; superpixel borders are then accurate to about one shrunk pixel (4000 / 800 = 5 px).

Reference: R. Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel
Methods", IEEE TPAMI 34(11), 2012; ``skimage.segmentation.slic``.
"""

from __future__ import annotations

import numpy as np

from pixelseg.data.transforms import nearest_indices
from pixelseg.errors import ConfigurationError

DEFAULT_N_SEGMENTS = 600
DEFAULT_COMPACTNESS = 10.0
DEFAULT_MAX_SIDE = 800
MAX_SEGMENTS = 20000


def _check(n_segments: int, compactness: float, max_side: int) -> None:
    if not 1 <= n_segments <= MAX_SEGMENTS:
        raise ConfigurationError(f"n_segments must be 1..{MAX_SEGMENTS}, got {n_segments}")
    if not 0.01 <= compactness <= 1000:
        raise ConfigurationError(f"compactness must be 0.01..1000, got {compactness}")
    if not 16 <= max_side <= 16384:
        raise ConfigurationError(f"max_side must be 16..16384, got {max_side}")


def superpixels(
    image: np.ndarray,
    n_segments: int = DEFAULT_N_SEGMENTS,
    compactness: float = DEFAULT_COMPACTNESS,
    max_side: int = DEFAULT_MAX_SIDE,
) -> np.ndarray:
    """SLIC segment map of an RGB image.

    Args:
        image: H x W x 3 uint8 RGB.
        n_segments: approximate number of superpixels, 1..20000.
        compactness: SLIC compactness (higher: squarer segments), 0.01..1000.
        max_side: SLIC runs on the image shrunk to this longer side (when larger).

    Returns:
        H x W uint16 segment ids 0..S-1 (S <= about n_segments), every id present.

    Raises:
        ConfigurationError: a parameter out of range, or an image that is not H x W x 3.
    """
    from PIL import Image
    from skimage.segmentation import slic

    _check(n_segments, compactness, max_side)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ConfigurationError(f"superpixels: expected an H x W x 3 uint8 image, got {image.shape} {image.dtype}")
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    small_h, small_w = max(1, round(height * scale)), max(1, round(width * scale))
    small = image
    if (small_h, small_w) != (height, width):
        small = np.asarray(Image.fromarray(image).resize((small_w, small_h), Image.Resampling.BOX))
    segments = slic(small, n_segments=n_segments, compactness=compactness, start_label=0, channel_axis=-1)
    # ids compact and ordered (slic may skip some ids)
    _, segments = np.unique(segments, return_inverse=True)
    segments = segments.reshape(small_h, small_w).astype(np.uint16)
    if (small_h, small_w) != (height, width):
        rows = nearest_indices(small_h, height)
        cols = nearest_indices(small_w, width)
        segments = segments[rows[:, None], cols[None, :]]
    return segments
