"""Reading images and label files exactly (Pillow for PNG/JPEG/BMP/GIF, tifffile for TIFF).

Images come back as H x W x 3 uint8 RGB whatever the file holds; label files come back as
their raw stored values (palette PNGs as indices, 16-bit PNGs at full depth), to be mapped
to class indices by :meth:`pixelseg.data.ClassSet.encode`.

Hostile files: every reader checks the pixel count in the file's header against
:mod:`pixelseg.utils.pixel_limit` (Pillow's limit by default, ``PIXELSEG_MAX_IMAGE_PIXELS``
to change it) before decoding, and any decoder failure is a :class:`DataError` naming the
file (:mod:`pixelseg.data.decoding`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pixelseg.data.decoding import decoding, exif_transpose, open_pillow
from pixelseg.data.label_files import TIFF_EXTENSIONS, decode_label_file, npy_shape
from pixelseg.data.label_files import pillow_fallback_message as _fallback_message
from pixelseg.data.tiff import MissingTiffCodec
from pixelseg.data.tiff import read_tiff as _read_tiff
from pixelseg.data.tiff import tiff_shape as _tiff_shape
from pixelseg.errors import ConfigurationError, DataError

__all__ = [
    "IMAGE_EXTENSIONS",
    "LABEL_EXTENSIONS",
    "read_image",
    "read_label_raw",
    "read_label",
    "image_size",
]

#: File extensions an ImageDatastore picks up by default (lower case, with dot).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".ppm", ".pgm")
#: File extensions a PixelLabelDatastore picks up by default (JPEG included so that it can
#: be refused with a clear error rather than silently skipped).
LABEL_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".gif", ".npy", ".mat", ".pgm", ".ppm", ".jpg", ".jpeg")
_TIFF_EXTENSIONS = TIFF_EXTENSIONS


def _scale_high_depth(data: np.ndarray, path: Path, high_bit_depth: str) -> np.ndarray:
    if data.dtype == np.uint8:
        return data
    if data.dtype == np.bool_:
        return data.astype(np.uint8) * 255
    if data.dtype == np.uint16:
        if high_bit_depth == "keep":
            return data
        return ((data.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if data.dtype.kind == "f" and high_bit_depth == "keep":
        return data.astype(np.float32)
    raise DataError(
        f"{path}: image pixels are {data.dtype}; pixelseg reads uint8 and uint16 images "
        "(float images: pass high_bit_depth='keep')"
    )


def _to_channels(data: np.ndarray, path: Path, channels: int | None) -> np.ndarray:
    if data.ndim == 2:
        data = data[:, :, None]
    if channels is None:
        return data
    c = data.shape[2]
    if channels == 3:
        if c == 1:
            return np.repeat(data, 3, axis=2)
        if c == 2:  # grey + alpha
            return np.repeat(data[:, :, :1], 3, axis=2)
        if c in (3, 4):  # RGB, RGBA (alpha dropped)
            return np.ascontiguousarray(data[:, :, :3])
        raise DataError(
            f"{path}: the image has {c} channels; pass channels=None (or channels={c}) to read "
            "multi-band images"
        )
    if c != channels:
        raise DataError(f"{path}: the image has {c} channels, but channels={channels} was asked for")
    return data


def read_image(
    path: str | os.PathLike,
    channels: int | None = 3,
    high_bit_depth: str = "keep",
) -> np.ndarray:
    """Read an image file as an H x W x C array (RGB by default).

    Args:
        path: PNG, JPEG, BMP, GIF, WebP, PPM (Pillow) or TIFF (tifffile) file.
        channels: 3 (default): RGB; grey is copied to 3 channels, alpha is dropped, CMYK,
            YCbCr and palette images are converted to RGB. ``None``: every stored band as
            H x W x C (multi-band, e.g. 4-band RGB+NIR TIFF; grey gives H x W x 1). Another
            int n: the file must hold exactly n bands.
        high_bit_depth: what to do with 16-bit images: ``"keep"`` (default; uint16 values
            returned unchanged) or ``"scale"`` (to uint8 by round(v * 255 / 65535)).
            8-bit images are always uint8. Nothing is scaled unless asked.

    EXIF orientation is applied (as image viewers and labeling tools display the photo).

    Returns:
        H x W x 3 uint8 RGB by default (uint16 for 16-bit files with ``"keep"``).

    Raises:
        FileNotFoundError: no such file.
        DataError: unreadable or damaged file (whatever the decoder raised, with the file
            named), unsupported pixel type, too many bands for RGB, or a header claiming more
            than twice :func:`pixelseg.utils.pixel_limit.max_image_pixels` pixels (the
            message points to tiled inference).
        ConfigurationError: a bad option value.
    """
    if high_bit_depth not in ("keep", "scale"):
        raise ConfigurationError(f"high_bit_depth must be 'keep' or 'scale', got {high_bit_depth!r}")
    if channels is not None and (not isinstance(channels, int) or channels < 1):
        raise ConfigurationError(f"channels must be None or a positive int, got {channels!r}")
    path = Path(path)
    with decoding(path):
        return _read_image(path, channels, high_bit_depth)


def _read_image(path: Path, channels: int | None, high_bit_depth: str) -> np.ndarray:
    if path.suffix.lower() in _TIFF_EXTENSIONS:
        try:
            data, photometric, _, _ = _read_tiff(path)
        except MissingTiffCodec as missing:
            try:
                data = _pillow_image_array(path, channels)
            except DataError as exc:
                raise DataError(_fallback_message(path, missing, exc)) from None
            return _to_channels(_scale_high_depth(data, path, high_bit_depth), path, channels)
        if photometric in ("PALETTE", "SEPARATED", "YCBCR") and channels == 3:
            data = _pillow_image_array(path, channels)
        return _to_channels(_scale_high_depth(data, path, high_bit_depth), path, channels)
    data = _pillow_image_array(path, channels)
    return _to_channels(_scale_high_depth(data, path, high_bit_depth), path, channels)


def _pillow_image_array(path: Path, channels: int | None) -> np.ndarray:
    image = exif_transpose(open_pillow(path))
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image).astype(np.uint16, copy=False)
    if mode == "I":
        data = np.asarray(image)
        if data.min(initial=0) >= 0 and data.max(initial=0) <= 65535:
            return data.astype(np.uint16)
        raise DataError(f"{path}: 32-bit integer image with values outside 0..65535")
    if mode == "F":
        return np.asarray(image, dtype=np.float32)
    if mode == "1":
        return np.asarray(image.convert("L"))
    if channels is None and mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(image)
    if mode in ("L", "RGB"):
        return np.asarray(image)
    if mode == "LA":
        return np.asarray(image)[:, :, 0]
    return np.asarray(image.convert("RGBA" if mode in ("PA", "RGBa") or "transparency" in image.info else "RGB"))


def read_label_raw(path: str | os.PathLike, allow_jpeg: bool = False, palette: str = "indices",
                   mat_variable: str | None = None) -> np.ndarray:
    """Read the raw values stored in a label file, exactly (alpha, if any, dropped).

    * palette ("P") PNG/GIF/BMP/TIFF: the palette **indices** (``palette="colors"``: the
      palette's colours, H x W x 3);
    * 8-bit grey: uint8; 16-bit PNG/TIFF: uint16 at full depth; 1-bit: 0/1 as uint8;
    * RGB(A) colour masks: H x W x 3 uint8 (alpha dropped);
    * GIF: its one frame; TIFF: tifffile, or Pillow for LZW/JPEG-compressed files when the
      ``imagecodecs`` package is missing;
    * ``.npy``: the stored integer array (any dtype, e.g. int32 with -1 for void);
    * ``.mat``: the array at ``mat_variable`` (see :mod:`pixelseg.data.mat_files`).

    JPEG label files (and JPEG-compressed TIFF, lossy WebP) are refused by default: lossy
    compression changes label values (edges become in-between values, or other classes).

    Args:
        path: label file.
        allow_jpeg: read JPEG labels anyway (values that map to no class are still errors).
        palette: ``"indices"`` (default) or ``"colors"``.
        mat_variable: variable path of the label array in a ``.mat`` file (str, e.g.
            ``"groundTruth/0/Segmentation"``); None: the file's only H x W array.

    Returns:
        H x W integer array, or H x W x 3 uint8 for colour masks.

    Raises:
        FileNotFoundError: no such file. DataError: JPEG (unless allowed), unreadable or
        damaged, above the pixel limit (as :func:`read_image`), a GIF of several frames, a
        ``.mat`` file without the named array, or not 2-D. ConfigurationError: a bad palette.
    """
    return decode_label_file(Path(path), allow_jpeg, palette, mat_variable)[0]


def read_label(path: str | os.PathLike, class_set, tolerance: int = 0, allow_jpeg: bool = False,
               **options) -> np.ndarray:
    """Read a label file and map it to H x W uint8 class indices (void 255).

    ``options`` are the reading options of :class:`pixelseg.data.label_reading.LabelReader`
    (``threshold``, ``palette``, ``alpha_void``, ``mat_variable``); with none given:
    ``class_set.encode(raw, source=path)`` of the file's values, palette files decoded
    through their palette when ``class_set`` declares colours, alpha-0 pixels void.

    Raises:
        DataError, ConfigurationError: as :class:`~pixelseg.data.label_reading.LabelReader`.
    """
    from pixelseg.data.label_reading import LabelReader

    reader = LabelReader(tolerance=tolerance, allow_jpeg=allow_jpeg, **options)
    return reader.read(path, reader.checked(class_set))


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(H, W) of an image or label file from its header (no pixel decoding where possible).

    EXIF orientation is taken into account for images that rotate by 90 degrees.

    Raises:
        FileNotFoundError: no such file. DataError: an unreadable header, or one claiming
            more pixels than :mod:`pixelseg.utils.pixel_limit` allows.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return npy_shape(path)[:2]
    if suffix in _TIFF_EXTENSIONS:
        return _tiff_shape(path)
    with decoding(path, "the image header"), open_pillow(path, load=False) as image:
        width, height = image.size
        try:
            orientation = image.getexif().get(0x0112, 1)
        except Exception:
            orientation = 1
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return height, width
