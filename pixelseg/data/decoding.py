"""Opening image files safely: every decoder failure becomes a :class:`DataError` naming the
file, and no file is decoded before its header's pixel count has passed
:mod:`pixelseg.utils.pixel_limit`.

Decoders fail in many ways on damaged or hostile files (Pillow raises ``SyntaxError`` for a
corrupt PNG chunk, ``ValueError`` for a malformed PGM header, ``struct.error``,
``EOFError``, ``IndexError``...); :func:`decoding` turns all of them into one sentence.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from pixelseg.errors import PixelsegError
from pixelseg.utils.pixel_limit import check_pixel_count, pillow_limit

__all__ = ["decoding", "open_pillow", "exif_transpose"]


@contextlib.contextmanager
def decoding(path: Path, what: str = "the image"):
    """Run a decoder; any exception but pixelseg's own becomes a DataError naming ``path``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DataError: anything the decoder raised (its type and message are kept in the text).
    """
    from PIL import Image, UnidentifiedImageError

    from pixelseg.errors import DataError

    try:
        yield
    except PixelsegError:
        raise
    except Image.DecompressionBombError as exc:
        raise DataError(
            f"{path}: {exc} Split it into tiles, or store it as a (tiled) TIFF and use tiled "
            "inference (semanticseg on a TIFF path), or raise the limit "
            "(pixelseg.utils.pixel_limit.set_max_image_pixels) if you trust the file"
        ) from None
    except UnidentifiedImageError:
        raise DataError(f"{path}: not an image file Pillow can read") from None
    except Exception as exc:
        if isinstance(exc, OSError) and not path.exists():
            raise FileNotFoundError(f"{path} does not exist") from None
        detail = str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
        raise DataError(f"{path}: cannot read {what} ({detail})") from None


def open_pillow(path: Path, load: bool = True):
    """``PIL.Image.open(path)`` with the pixel limit checked from the header, then (``load``)
    the pixels decoded. Errors as :func:`decoding`."""
    from PIL import Image

    with decoding(path, "the image" if load else "the image header"):
        with pillow_limit():
            image = Image.open(path)
        check_pixel_count(path, image.size[0] * image.size[1])
        if load:
            image.load()
    return image


def exif_transpose(image):
    """A Pillow image turned as its EXIF orientation says (as viewers and labeling tools
    display it); a malformed EXIF block is ignored, as viewers do."""
    from PIL import ImageOps

    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF: ignore it, as viewers do
        return image
    if orientation in (None, 1):
        return image
    return ImageOps.exif_transpose(image)
