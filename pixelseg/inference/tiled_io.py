"""Lazy band reading for tiled inference, and the tiled label TIFF writer.

Reading: a TIFF is opened with ``tifffile`` and read through its zarr store
(``TiffPageSeries.aszarr``), so that a slice of rows decodes only the TIFF tiles or strips
it touches. Without the ``zarr`` package (the ``tiff`` extra) the TIFF is read whole (with a
warning). Arrays (numpy, ``np.memmap``, zarr) are sliced directly; other image files are read
whole.

Writing: :func:`write_label_tiff` consumes finished label bands and hands ``tifffile`` the
TIFF tiles in order, so the label map is never whole in memory.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from pixelseg.data.tiff import check_tiff_codec
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.extras import install_command

_TIFF_SUFFIXES = (".tif", ".tiff")


class ImageSource:
    """Rows of an image as (rows x W x C) arrays. ``name`` is used in messages."""

    def __init__(self, data, axes: str, name: str, closer=None, extra_samples: int = 0,
                 channels: int | None = None):
        self.data, self.axes, self.name, self._closer = data, axes, name, closer
        shape = dict(zip(axes, data.shape))
        self.height, self.width = int(shape["Y"]), int(shape["X"])
        # As ImageDatastore reads a file for a network of `channels` inputs: extra samples
        # (alpha) are dropped, and grey is repeated to RGB. Arrays are taken as they are.
        self._keep = max(1, int(shape.get("S", 1)) - extra_samples)
        self._repeat = 3 if self._keep == 1 and channels == 3 else 1
        self.channels = self._keep * self._repeat
        self.dtype = np.dtype(data.dtype)
        if self.dtype not in (np.uint8, np.uint16):
            raise DataError(f"{name}: pixels of type {self.dtype} are not supported (uint8 or uint16)")
        if self.height == 0 or self.width == 0:
            raise DataError(f"{name} is empty: its size is {self.height} x {self.width} pixels")

    def read_rows(self, y0: int, y1: int) -> np.ndarray:
        """Rows y0..y1-1 as (y1 - y0) x W x C (C = 1 for grey).

        Raises:
            DataError: the file's pixels there cannot be decoded (a damaged or cut-short
                file): names the file and the rows.
        """
        try:
            return self._read_rows(y0, y1)
        except (DataError, MemoryError):
            raise
        except Exception as exc:  # the codec's or the store's own error, whatever its type
            raise DataError(f"{self.name}: rows {y0}-{y1 - 1} cannot be read; the file is damaged or cut short "
                            f"({type(exc).__name__}: {exc})") from None

    def _read_rows(self, y0: int, y1: int) -> np.ndarray:
        if self.axes == "YXS":
            out = self.data[y0:y1]
        elif self.axes == "SYX":
            out = np.moveaxis(np.asarray(self.data[:, y0:y1]), 0, -1)
        else:  # "YX"
            out = np.asarray(self.data[y0:y1])[..., None]
        out = out[..., : self._keep]
        if self._repeat > 1:
            out = np.repeat(out, self._repeat, axis=-1)
        return np.ascontiguousarray(out)

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


def _array_source(array, name: str) -> ImageSource:
    if isinstance(array, torch.Tensor):
        array = array.numpy(force=True)
    if array.ndim == 2:
        return ImageSource(array, "YX", name)
    if array.ndim == 3:
        return ImageSource(array, "YXS", name)
    raise DataError(f"{name} must be H x W or H x W x C, got shape {tuple(array.shape)}")


def _tiff_source(path: Path, channels: int | None = None) -> ImageSource:
    import tifffile

    try:
        tif = tifffile.TiffFile(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except Exception as exc:
        raise DataError(f"{path}: cannot read the TIFF file ({exc})") from None
    try:
        series = tif.series[0]
        axes, shape = series.axes, series.shape
        squeezed = axes.replace("C", "S")
        if squeezed not in ("YX", "YXS", "SYX"):
            raise DataError(
                f"{path}: the TIFF holds axes {axes} of shape {shape}; tiled inference reads "
                "one 2-D image (Y, X and optionally samples)"
            )
        check_tiff_codec(path, tif.pages[0])
        try:
            import zarr

            store = series.aszarr(level=0)
            data = zarr.open(store, mode="r")
            closer = _closer(store, tif)
        except ImportError:
            warnings.warn(
                f"{path}: the zarr package is not installed, so the TIFF is read whole; "
                f"{install_command('tiff')} reads it tile by tile",
                stacklevel=3,
            )
            data, closer = series.asarray(level=0), tif.close
        if tif.pages[0].photometric == 3:  # palette
            raise DataError(f"{path}: a palette TIFF holds colour indices; tiled inference reads RGB or grey pixels "
                            "(convert it to RGB first)")
        extra = len(tif.pages[0].extrasamples)  # alpha of RGBA or grey + alpha
        return ImageSource(data, squeezed, str(path), closer, extra_samples=extra, channels=channels)
    except BaseException:
        tif.close()
        raise


def _closer(store, tif):
    def close():
        with contextlib.suppress(Exception):
            store.close()
        tif.close()

    return close


@contextlib.contextmanager
def open_image_source(image, channels: int | None = None):
    """Context manager yielding an :class:`ImageSource` for a path or an array. A file is
    read as for a network of ``channels`` inputs (alpha dropped, grey repeated to RGB), as
    ImageDatastore does; an array is taken as it is (a 4th channel may be data, not alpha).

    Raises:
        DataError: unreadable file, unsupported axes or pixel type.
    """
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.exists():
            raise DataError(f"{path} does not exist")
        if path.suffix.lower() in _TIFF_SUFFIXES:
            source = _tiff_source(path, channels)
        else:
            from pixelseg.data.io import read_image

            source = _array_source(read_image(path, channels=channels), str(path))
    elif hasattr(image, "shape") and hasattr(image, "__getitem__") and hasattr(image, "dtype"):
        source = _array_source(image, "the image")
    else:
        raise ConfigurationError(
            f"image must be a file path or an H x W x C array, got {type(image).__name__}"
        )
    try:
        yield source
    finally:
        source.close()


def _tiff_tiles(bands: Iterable[tuple[int, np.ndarray]], width: int, tile: int):
    """TIFF tiles (tile x tile uint8) in row-major order from consecutive label bands."""
    pending: list[np.ndarray] = []
    count = 0

    def tile_row(rows: np.ndarray):
        for x0 in range(0, width, tile):
            t = rows[:, x0 : x0 + tile]
            if t.shape != (tile, tile):
                t = np.pad(t, ((0, tile - t.shape[0]), (0, tile - t.shape[1])))
            yield t

    for _, band in bands:
        pending.append(band)
        count += band.shape[0]
        while count >= tile:
            rows = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield from tile_row(rows[:tile])
            rest = rows[tile:]
            pending, count = ([rest] if rest.shape[0] else []), rest.shape[0]
    if count:
        yield from tile_row(np.concatenate(pending))


def check_tiff_tile(tile) -> None:
    """Raise ConfigurationError unless ``tile`` (the edge of a written TIFF's tiles) is a
    positive multiple of 16, as the TIFF specification requires."""
    if not isinstance(tile, int) or tile < 16 or tile % 16:
        raise ConfigurationError(f"tiff_tile must be a positive multiple of 16, got {tile!r}")


def write_label_tiff(path, bands, height: int, width: int, colors, tile: int = 256,
                     overwrite: bool = False) -> Path:
    """Write label bands (from tiled inference) as a tiled, deflate-compressed TIFF, atomically.

    Args:
        path: destination ``.tif``.
        bands: iterable of (y0, rows x width uint8) covering rows 0..height-1 in order.
        colors: K x 3 uint8 class colours stored as the TIFF palette (void 255 black), or
            None for a grey (minisblack) TIFF.
        tile: TIFF tile edge, a multiple of 16.

    Raises:
        ConfigurationError: ``tile`` not a positive multiple of 16.
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    import tifffile

    from pixelseg.utils.atomic import atomic_write

    check_tiff_tile(tile)
    options = {}
    if colors is not None:
        colormap = np.zeros((3, 256), dtype=np.uint16)
        colors = np.asarray(colors, dtype=np.uint16)
        colormap[:, : colors.shape[0]] = colors.T * 257
        options = {"photometric": "palette", "colormap": colormap}
    else:
        options = {"photometric": "minisblack"}
    with atomic_write(path, overwrite=overwrite) as tmp:
        tifffile.imwrite(
            tmp,
            _tiff_tiles(bands, width, tile),
            shape=(height, width),
            dtype=np.uint8,
            tile=(tile, tile),
            compression="zlib",
            bigtiff=height * width > 2**31,
            **options,
        )
    return Path(path)
