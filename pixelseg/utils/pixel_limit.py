"""The decompression-bomb limit: how many pixels an image file may hold before pixelseg
refuses to decode it.

Every reader in :mod:`pixelseg.data.io` checks the pixel count from the file's header
*before* decoding (Pillow formats, TIFF through tifffile, ``.npy``), so a small file that
claims billions of pixels is refused without allocating them. The rule is Pillow's: a file
above **twice** the limit is refused with a :class:`~pixelseg.errors.DataError` naming the
file and its pixel count (Pillow warns between one and two times the limit).

The limit, in order of precedence:

1. :func:`set_max_image_pixels` (``None`` disables the check; ``"default"`` forgets the
   setting);
2. the environment variable ``PIXELSEG_MAX_IMAGE_PIXELS`` (a positive integer; ``0`` or
   ``none`` disables the check);
3. Pillow's ``PIL.Image.MAX_IMAGE_PIXELS`` (89,478,485 unless changed), read at each call.

Tiled inference (``semanticseg`` on a TIFF path) reads TIFFs band by band through its own
reader and is not limited.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

from pixelseg.errors import ConfigurationError, DataError

__all__ = ["ENV_VAR", "set_max_image_pixels", "max_image_pixels", "check_pixel_count", "pillow_limit"]

#: Environment variable read when no limit was set in Python.
ENV_VAR = "PIXELSEG_MAX_IMAGE_PIXELS"

_UNSET: Any = object()
_setting: Any = _UNSET
_pillow_lock = threading.Lock()


def _parse(value: Any, what: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "0", "")):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or number < 0 or (not isinstance(value, str) and number != value):
        raise ConfigurationError(f"{what} must be a positive number of pixels, 0 or 'none', got {value!r}")
    return number or None


def set_max_image_pixels(limit: int | str | None) -> None:
    """Set the limit for this process (overrides the environment variable and Pillow's).

    Args:
        limit: a positive int (files above twice it are refused), ``None`` or 0 (no limit),
            or ``"default"`` (forget the setting: environment variable, else Pillow's).

    Raises:
        ConfigurationError: a negative or non-integer value.
    """
    global _setting
    _setting = _UNSET if limit == "default" else _parse(limit, "the maximum image pixels")


def max_image_pixels() -> int | None:
    """The limit now in force (None: no limit); see the module's docstring for the order.

    Raises:
        ConfigurationError: ``PIXELSEG_MAX_IMAGE_PIXELS`` holds something else than an int,
            0 or ``none``.
    """
    if _setting is not _UNSET:
        return _setting
    env = os.environ.get(ENV_VAR)
    if env is not None:
        return _parse(env, f"the environment variable {ENV_VAR}")
    from PIL import Image

    return Image.MAX_IMAGE_PIXELS


def check_pixel_count(path: Any, pixels: int, bands: int = 1) -> None:
    """Refuse a file whose header claims more than twice the limit.

    Args:
        path: the file, named in the error.
        pixels: H x W (times any other non-band axes) from the header.
        bands: samples per pixel; files with more than 4 count once per 4 bands, so that a
            header claiming thousands of bands is not a way around the limit.

    Raises:
        DataError: naming the file, the pixel count and the limit, and how to raise it.
    """
    limit = max_image_pixels()
    weighted = pixels * max(1, -(-int(bands) // 4))
    if limit is not None and weighted > 2 * limit:
        raise DataError(
            f"{path}: the file claims {pixels:,} pixels"
            + (f" x {bands} bands" if bands > 4 else "")
            + f", more than twice the limit of {limit:,} (a decompression bomb?). If you trust "
            f"the file, raise the limit with pixelseg.utils.pixel_limit.set_max_image_pixels(n) or "
            f"the environment variable {ENV_VAR} (0 or 'none' disables it), or read it tile by "
            "tile (tiled inference on a TIFF)"
        )


@contextlib.contextmanager
def pillow_limit():
    """Make Pillow's own bomb check use pixelseg's limit while opening a file.

    Pillow checks ``PIL.Image.MAX_IMAGE_PIXELS`` (a global) in ``Image.open``; when pixelseg's
    limit differs from it, the global is swapped under a lock for the duration.
    """
    from PIL import Image

    limit = max_image_pixels()
    if limit == Image.MAX_IMAGE_PIXELS:
        yield
        return
    with _pillow_lock:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved
