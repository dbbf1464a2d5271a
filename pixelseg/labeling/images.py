"""Reading images for the labeling app, the way the rest of pixelseg reads them.

The label drawn in the browser must have exactly the size pixelseg reads
(:func:`pixelseg.data.io.read_image`, EXIF orientation applied), so the browser gets the
original file only when it is a plain RGB/grey PNG or JPEG without rotation; anything
else (TIFF, 16-bit, alpha, palette, EXIF-rotated) is decoded by pixelseg and sent as a
fast PNG.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

_PASSTHROUGH = {"PNG": "image/png", "JPEG": "image/jpeg"}
_ORIENTATION_TAG = 0x0112


def read_rgb(path: Path) -> np.ndarray:
    """H x W x 3 uint8 RGB (16-bit images scaled to 8 bits for display and SLIC)."""
    from pixelseg.data.io import read_image

    return np.asarray(read_image(path, channels=3, high_bit_depth="scale"))


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) as pixelseg reads the image (EXIF rotation applied), header only."""
    from pixelseg.data.io import image_size as header_size

    return header_size(path)


def browser_image(path: Path) -> tuple[Path | bytes, str]:
    """What to send the browser: (the file itself or PNG bytes, media type)."""
    from PIL import Image

    from pixelseg.errors import DataError

    try:
        with Image.open(path) as img:
            media = _PASSTHROUGH.get(img.format or "")
            orientation = img.getexif().get(_ORIENTATION_TAG, 1)
            plain = img.mode in ("RGB", "L") and orientation in (1, None)
    except (OSError, Image.DecompressionBombError) as exc:
        raise DataError(f"{path.name}: cannot read the image ({exc})") from None
    if media and plain:
        return path, media
    buffer = io.BytesIO()
    Image.fromarray(read_rgb(path)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue(), "image/png"
