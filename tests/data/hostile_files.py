"""Small hostile or damaged files for the reader tests (written to a test's tmp_path)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def tiff_bomb(width: int = 872_416_009, height: int = 13) -> bytes:
    """A 128-byte little-endian TIFF whose header claims ``width`` x ``height`` 8-bit grey
    pixels (uncompressed, one strip that points past the end of the file)."""
    tags = [  # (tag, type, count, value); type 3 SHORT, 4 LONG
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, width * height & 0xFFFFFFFF),
    ]
    ifd = struct.pack("<H", len(tags))
    for tag, kind, count, value in tags:
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    header = b"II*\0" + struct.pack("<I", 8)
    data = header + ifd
    return data + b"\0" * (128 - len(data))


def png_bytes(array: np.ndarray | None = None) -> bytes:
    """A valid PNG (8 x 8 grey ramp by default)."""
    if array is None:
        array = np.arange(64, dtype=np.uint8).reshape(8, 8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_corrupt_chunk() -> bytes:
    """A PNG whose pixel data is split in two chunks, the second with a corrupt chunk type:
    Pillow identifies the file, then raises ``SyntaxError`` (no file named) while decoding."""
    data = png_bytes()
    start = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[start : start + 4])[0]
    payload = data[start + 8 : start + 8 + length]
    second = png_chunk(b"ID\x00T", payload[5:])
    return data[:start] + png_chunk(b"IDAT", payload[:5]) + second + data[start + 12 + length :]


def gif_zero_width_frame() -> bytes:
    """A GIF whose image descriptor says width 0 (Pillow: ``ValueError: tile cannot extend
    outside image``)."""
    buffer = io.BytesIO()
    Image.fromarray((np.arange(64).reshape(8, 8) * 3).astype(np.uint8)).convert("P").save(buffer, format="GIF")
    data = bytearray(buffer.getvalue())
    start = data.index(b"\x2c\x00\x00\x00\x00")  # image descriptor at (0, 0)
    data[start + 5 : start + 7] = b"\0\0"
    return bytes(data)


def npy_header_only(shape: tuple[int, ...], dtype: str = "<u1") -> bytes:
    """A ``.npy`` header claiming ``shape`` with no data after it."""
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


#: Malformed PGM headers (Pillow: ``ValueError``), by name.
BAD_PGMS = {
    "letter_size.pgm": b"P2\n8 x\n255\n1 2 3",
    "long_token.pgm": b"P2\n2 2\n255\n1 2 3 999999999999",
    "truncated.pgm": b"P5\n8 8\n255\n\0\0\0",
}
