"""Decoding label files into their stored values and, where the file has one, their alpha.

What :func:`decode_label_file` returns per file type:

* palette ("P") PNG/GIF/BMP/TIFF: the palette **indices** (``palette="indices"``), the
  palette's colours as H x W x 3 (``palette="colors"``, alpha from a PNG/GIF transparency
  table or a "PA" image), or (``palette="grey"``) the grey values of a palette whose used
  entries are all grey (R = G = B; a 0/255 mask saved as GIF), indices otherwise;
* 8-bit grey: uint8; 16-bit PNG/TIFF: uint16 at full depth; 1-bit: 0/1 as uint8;
* RGB colour masks: H x W x 3 uint8; RGBA: the colours and the alpha; grey + alpha: the
  grey values and the alpha;
* GIF: one frame (a GIF of several frames is refused);
* TIFF through tifffile, or through Pillow when tifffile would need the ``imagecodecs``
  package for the compression (LZW, JPEG...);
* ``.npy``: the stored array; ``.mat``: the array at ``mat_variable``
  (:mod:`pixelseg.data.mat_files`).

Lossily compressed label files (JPEG, JPEG data under another name, JPEG-compressed TIFF, lossy
WebP) are refused unless ``allow_jpeg``: lossy compression changes label values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixelseg.data.decoding import decoding, exif_transpose, open_pillow
from pixelseg.data.mat_files import read_mat_label
from pixelseg.data.tiff import MissingTiffCodec, read_tiff
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.extras import install_command
from pixelseg.utils.pixel_limit import check_pixel_count

__all__ = ["PALETTE_MODES", "JPEG_EXTENSIONS", "TIFF_EXTENSIONS", "decode_label_file", "npy_shape",
           "pillow_fallback_message"]

#: How palette label files are read: their indices, their colours, or the grey values of grey palettes.
PALETTE_MODES = ("indices", "colors", "grey")
JPEG_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif")
TIFF_EXTENSIONS = (".tif", ".tiff")
_GREY_MODES = ("L", "I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def check_palette_mode(palette: str) -> str:
    """``palette`` if it is one of :data:`PALETTE_MODES`; ConfigurationError otherwise."""
    if palette not in PALETTE_MODES:
        raise ConfigurationError(f"palette must be one of {PALETTE_MODES}, got {palette!r}")
    return palette


def decode_label_file(path: Path, allow_jpeg: bool = False, palette: str = "indices",
                      mat_variable: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The stored values of a label file and its alpha channel (None when it has none).

    Args:
        path: the label file.
        allow_jpeg: read JPEG label files anyway.
        palette: ``"indices"``, ``"colors"`` or ``"grey"`` (see the module docstring).
        mat_variable: the variable path of a ``.mat`` file (see :mod:`pixelseg.data.mat_files`).

    Returns:
        values: H x W integer (or float, from ``.npy``/``.mat``) array, or H x W x 3.
        alpha: H x W uint8 (16-bit alpha scaled to 8 bits), or None.

    Raises:
        FileNotFoundError: no such file. DataError: JPEG (unless allowed), unreadable or
            damaged, above the pixel limit, a GIF of several frames, or not 2-D.
    """
    check_palette_mode(palette)
    with decoding(path):
        values, alpha = _decode(path, allow_jpeg, palette, mat_variable)
    if values.ndim == 3 and values.shape[2] == 4:
        values = values[:, :, :3]
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[:, :, 0]
    if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[2] != 3):
        raise DataError(f"{path}: label array has shape {values.shape}; expected H x W or H x W x 3")
    if values.dtype.byteorder == ">":
        values = values.astype(values.dtype.newbyteorder("="))
    return np.ascontiguousarray(values), alpha


def _decode(path: Path, allow_jpeg: bool, palette: str, mat_variable: str | None):
    suffix = path.suffix.lower()
    if suffix in JPEG_EXTENSIONS and not allow_jpeg:
        raise DataError(_jpeg_message(path))
    if suffix == ".npy":
        return _read_npy(path), None
    if suffix == ".mat":
        return read_mat_label(path, mat_variable), None
    if suffix in TIFF_EXTENSIONS and not _holds_tiff(path):
        return _pillow_label(path, allow_jpeg, palette)  # another format under a TIFF name: Pillow says which
    if suffix in TIFF_EXTENSIONS:
        try:
            data, photometric, has_alpha, compression = read_tiff(path)
        except MissingTiffCodec as exc:
            return _pillow_label(path, allow_jpeg, palette, exc)
        if compression in _LOSSY_TIFF and not allow_jpeg:
            raise DataError(_jpeg_message(path, f"a TIFF with {_LOSSY_TIFF[compression]} compression"))
        if photometric == "PALETTE" and palette == "colors":
            return _pillow_label(path, allow_jpeg, palette)
        if has_alpha and data.ndim == 3 and data.shape[2] in (2, 4):
            alpha = data[:, :, -1]
            if alpha.dtype == np.uint16:
                alpha = (alpha >> 8).astype(np.uint8)
            return data[:, :, :-1], alpha
        return data, None
    return _pillow_label(path, allow_jpeg, palette)


_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # classic and BigTIFF, both byte orders


def _holds_tiff(path: Path) -> bool:
    """Whether the file starts like a TIFF (a missing or unreadable file counts as one, so
    that the TIFF reader names the problem)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) in _TIFF_MAGIC
    except OSError:
        return True


def pillow_fallback_message(path: Path, missing: MissingTiffCodec, exc: Exception) -> str:
    """The error when neither tifffile (without imagecodecs) nor Pillow reads a TIFF."""
    return (f"{missing}; Pillow could not read it either ({exc}). Install the tiff extra "
            f"({install_command('tiff')}) to read this TIFF")


def _pillow_label(path: Path, allow_jpeg: bool, palette: str, missing: MissingTiffCodec | None = None):
    try:
        image = open_pillow(path)
    except DataError as exc:
        if missing is None:
            raise
        raise DataError(pillow_fallback_message(path, missing, exc)) from None
    if image.format in ("JPEG", "MPO") and not allow_jpeg:
        raise DataError(_jpeg_message(path) + " (the file holds JPEG data despite its name)")
    if image.format == "WEBP" and not allow_jpeg and webp_is_lossy(path):
        raise DataError(_jpeg_message(path, "a lossy WebP file (save it as lossless WebP or PNG)"))
    if image.format == "TIFF" and not allow_jpeg and image.info.get("compression") in ("jpeg", "tiff_jpeg"):
        raise DataError(_jpeg_message(path, "a TIFF with JPEG compression"))
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and image.format != "MPO":
        raise DataError(f"{path}: the {image.format} file holds {frames} frames; a label file holds one image")
    image = exif_transpose(image)
    mode = image.mode
    if mode in ("P", "PA") and palette == "colors":
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
    if mode == "P" and palette == "grey":
        return _grey_palette_values(image), None
    if mode in ("P", "RGB") or mode in _GREY_MODES:
        return np.asarray(image), None
    if mode == "PA":
        return np.asarray(image.getchannel(0)), None  # indices: the palette's alpha is not read
    if mode == "LA":
        data = np.asarray(image)
        return data[:, :, 0], data[:, :, 1]
    if mode == "1":
        return np.asarray(image).astype(np.uint8), None
    if mode in ("RGBA", "RGBa"):
        data = np.asarray(image.convert("RGBA"))
        return data[:, :, :3], data[:, :, 3]
    if mode == "RGBX":
        return np.asarray(image.convert("RGB")), None
    raise DataError(f"{path}: label files in Pillow mode {mode!r} are not supported")


def _grey_palette_values(image) -> np.ndarray:
    """A "P" image's grey values when every used palette entry is grey (R = G = B), else
    its indices."""
    indices = np.asarray(image)
    palette = np.asarray(image.getpalette() or [], dtype=np.uint8).reshape(-1, 3)
    used = np.flatnonzero(np.bincount(indices.reshape(-1), minlength=256))
    if used.size == 0 or used[-1] >= len(palette):
        return indices
    rgb = palette[used]
    if not ((rgb[:, 0] == rgb[:, 1]) & (rgb[:, 1] == rgb[:, 2])).all():
        return indices
    lut = np.zeros(256, np.uint8)
    lut[: len(palette)] = palette[:, 0]
    return lut[indices]


def npy_shape(path: Path) -> tuple[int, ...]:
    """The shape in a ``.npy`` header, checked against the pixel limit and the file's size
    before any data is read.

    Raises:
        FileNotFoundError: no such file. DataError: a bad header, fewer than 2 axes, a
            pixel count above the limit, or a file shorter than its header says.
    """
    from numpy.lib import format as npy

    with decoding(path, "the .npy header"), open(path, "rb") as f:
        version = npy.read_magic(f)
        header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = header(f, max_header_size=10_000)
        offset = f.tell()
    if len(shape) < 2:
        raise DataError(f"{path}: the .npy array has shape {shape}; expected H x W (x C)")
    check_pixel_count(path, shape[0] * shape[1], int(np.prod(shape[2:], dtype=object)))
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if path.stat().st_size - offset < expected:
        raise DataError(f"{path}: the .npy file is shorter than its header's shape {shape} ({dtype}) needs")
    return tuple(int(n) for n in shape)


def _read_npy(path: Path) -> np.ndarray:
    npy_shape(path)
    with decoding(path, "the .npy label file"):
        data = np.load(path, allow_pickle=False)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim not in (2, 3) or (data.ndim == 3 and data.shape[2] not in (3, 4)):
        raise DataError(f"{path}: .npy label array has shape {data.shape}; expected H x W")
    return data


def _jpeg_message(path: Path, what: str = "a JPEG label file") -> str:
    return (
        f"{path}: refusing to read {what}: lossy compression changes label values "
        "(pixels near edges get in-between values that belong to no class). Save labels as "
        "PNG, or pass allow_jpeg=True to read it anyway"
    )


#: TIFF compression schemes that are always lossy (tag 259): JPEG, old-style JPEG, lossy JPEG (DNG)
_LOSSY_TIFF = {6: "old-style JPEG", 7: "JPEG", 34892: "lossy JPEG"}


def webp_is_lossy(path: Path) -> bool:
    """Whether a WebP file holds lossy (VP8) image data: a ``VP8 `` chunk in its RIFF container
    (lossless WebP has ``VP8L``). Reads the chunk headers only. Source: the WebP container
    specification (RIFF chunks)."""
    with open(path, "rb") as f:
        f.seek(12)  # "RIFF", size, "WEBP"
        while len(header := f.read(8)) == 8:
            if header[:4] == b"VP8 ":
                return True
            size = int.from_bytes(header[4:], "little")
            f.seek(size + (size & 1), 1)
    return False
