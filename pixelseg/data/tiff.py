"""TIFF files through tifffile: the header's axes and pixel count are checked before any
pixel is decoded (a 128-byte file may claim billions of pixels, or a stack of thousands of
pages).

tifffile decodes LZW, JPEG, WebP, ZSTD... only with the optional ``imagecodecs`` package;
without it :func:`read_tiff` raises :class:`MissingTiffCodec`, and the readers of
:mod:`pixelseg.data.io` read such files through Pillow instead (Pillow decodes LZW,
JPEG, Deflate and PackBits itself), so pixelseg does not depend on imagecodecs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pixelseg.data.decoding import decoding
from pixelseg.errors import DataError
from pixelseg.utils.extras import MissingExtraError
from pixelseg.utils.pixel_limit import check_pixel_count

__all__ = ["MissingTiffCodec", "check_tiff_codec", "read_tiff", "tiff_shape"]

_BANDS = "SC"


class MissingTiffCodec(DataError):
    """tifffile needs the ``imagecodecs`` package to decode this file's compression; the
    message names the file and says so (e.g. ``<COMPRESSION.LZW: 5> requires the
    'imagecodecs' package``)."""


def _check_axes(path: Path, axes: str, shape: tuple[int, ...], stack_ok: bool = False) -> tuple[int, int]:
    """(H, W) from the header; a DataError without Y and X, above the pixel limit, or (unless
    ``stack_ok``) for a stack of images."""
    if "Y" not in axes or "X" not in axes:
        raise DataError(
            f"{path}: the TIFF holds axes {axes!r} of shape {tuple(shape)} without a Y and an X axis; "
            "pixelseg reads one 2-D image per file"
        )
    bands = math.prod(n for a, n in zip(axes, shape) if a in _BANDS)
    pixels = math.prod(n for a, n in zip(axes, shape) if a not in _BANDS)
    check_pixel_count(path, pixels, bands)
    extra = [(a, n) for a, n in zip(axes, shape) if a not in "YX" + _BANDS and n > 1]
    if extra and not stack_ok:
        raise DataError(
            f"{path}: the TIFF holds a stack of shape {tuple(shape)} (axes {axes}); pixelseg "
            "reads one 2-D image per file"
        )
    return int(shape[axes.index("Y")]), int(shape[axes.index("X")])


def read_tiff(path: Path) -> tuple[np.ndarray, str, bool, int]:
    """TIFF pixels as Y x X (x S), the photometric name, whether the last sample is an
    alpha channel (the first page's ExtraSamples tag says associated or unassociated alpha),
    and the first page's compression code (TIFF tag 259; 1 = none).

    Raises:
        FileNotFoundError: no such file. DataError: unreadable, above the pixel limit, or
            not one 2-D image. MissingTiffCodec: the compression needs ``imagecodecs``.
    """
    import tifffile

    with decoding(path, "the TIFF file"), tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        axes = series.axes
        _check_axes(path, axes, series.shape)
        try:
            data = series.asarray()
        except (ValueError, KeyError) as exc:
            if "imagecodecs" in str(exc):
                raise MissingTiffCodec(f"{path}: {str(exc).strip(chr(34) + chr(39))}") from None
            raise
        page = tif.pages[0] if tif.pages else None
        photometric = page.photometric.name if page is not None else "MINISBLACK"
        alpha = page is not None and any(int(e) in (1, 2) for e in page.extrasamples)
        compression = int(page.compression) if page is not None else 1
    # put samples/channels last, drop singleton leading axes
    for axis_name in _BANDS:
        if axis_name in axes and axes.index(axis_name) != len(axes) - 1:
            i = axes.index(axis_name)
            data = np.moveaxis(data, i, -1)
            axes = axes[:i] + axes[i + 1 :] + axis_name
    while data.ndim > 2 and axes[0] not in "YX" and data.shape[0] == 1:
        data, axes = data[0], axes[1:]
    if not axes.startswith("YX"):
        raise DataError(
            f"{path}: the TIFF holds a stack of shape {data.shape} (axes {axes}); pixelseg "
            "reads one 2-D image per file"
        )
    return data, photometric, alpha, compression


def tiff_shape(path: Path) -> tuple[int, int]:
    """(H, W) of a TIFF from its header (of its first image, for a stack).

    Raises:
        FileNotFoundError: no such file. DataError: unreadable header, no Y or X axis, or
            above the pixel limit.
    """
    import tifffile

    with decoding(path, "the TIFF header"), tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        return _check_axes(path, series.axes, series.shape, stack_ok=True)


def check_tiff_codec(path: Path, page) -> None:
    """Check, before decoding, that tifffile can decompress ``page`` (a ``tifffile.TiffPage``).

    tifffile decodes uncompressed, Deflate, LZMA and PackBits TIFFs itself; LZW, JPEG,
    JPEG 2000, WebP, Zstandard and the other codecs need the ``imagecodecs`` package, which
    the ``tiff`` extra installs.

    Raises:
        MissingExtraError: the compression needs imagecodecs and it is not installed; the
            message names ``path``, the compression and ``pip install "pixelseg[tiff]"``.
    """
    import tifffile

    try:
        tifffile.TIFF.DECOMPRESSORS[page.compression]
    except KeyError as exc:
        if "imagecodecs" in str(exc):
            name = getattr(page.compression, "name", str(page.compression))
            raise MissingExtraError("imagecodecs", "tiff", f"{path}: reading this {name}-compressed TIFF") from None
        # an unknown compression: tifffile's own error, when decoding, names it
