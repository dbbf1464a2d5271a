"""Fuzzing the readers and the class-set schema: whatever the bytes or the dict, only
pixelseg's own errors come out (issue 19). Bounded: a few hundred examples, derandomized so
the suite is deterministic, well under a minute in all."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from pixelseg.data import ClassSet, image_size, read_image, read_label_raw
from pixelseg.errors import PixelsegError
from pixelseg.utils.pixel_limit import set_max_image_pixels

from .hostile_files import npy_header_only, png_bytes

FUZZ = settings(max_examples=150, deadline=5000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SUFFIXES = [".png", ".tif", ".gif", ".bmp", ".pgm", ".ppm", ".jpg", ".webp", ".npy"]


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((np.arange(48).reshape(6, 8) * 5).astype(np.uint8)).convert("P").save(buffer, format="GIF")
    return buffer.getvalue()


def _tiff(**kwargs) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3), **kwargs)
    return buffer.getvalue()


def _pgm() -> bytes:
    return b"P5\n8 6\n255\n" + bytes(range(48))


VALID = {
    ".png": png_bytes(),
    ".tif": _tiff(photometric="rgb"),
    ".tiff": _tiff(photometric="rgb", tile=(16, 16), compression="zlib"),
    ".gif": _gif(),
    ".pgm": _pgm(),
    ".npy": npy_header_only((6, 8)) + bytes(48),
}


@pytest.fixture(scope="module")
def folder():
    set_max_image_pixels(1_000_000)  # mutated headers may claim large sizes: keep allocations small
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)
    set_max_image_pixels("default")


def _read_everything(path: Path) -> None:
    for read in (read_image, lambda p: read_label_raw(p, allow_jpeg=True), image_size, lambda p: read_image(p, None)):
        try:
            read(path)
        except PixelsegError:
            pass


@st.composite
def mutated(draw):
    suffix = draw(st.sampled_from(sorted(VALID)))
    data = bytearray(VALID[suffix])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "set", "cut", "insert"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[at] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, 1]))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        if not data:
            data = bytearray(b"\0")
    return suffix, bytes(data)


@FUZZ
@given(st.sampled_from(SUFFIXES), st.binary(max_size=300))
def test_random_bytes_give_only_pixelseg_errors(folder, suffix, data):
    path = folder / f"random{suffix}"
    path.write_bytes(data)
    _read_everything(path)


@FUZZ
@given(mutated())
def test_mutated_valid_files_give_only_pixelseg_errors(folder, case):
    suffix, data = case
    path = folder / f"mutated{suffix}"
    path.write_bytes(data)
    _read_everything(path)


KEYS = ["classes", "names", "label_ids", "colors", "void_ids", "id_type", "name", "ids", "id", "color", "void_idz"]
SCALARS = st.none() | st.booleans() | st.integers(-300, 70000) | st.floats(allow_nan=True) | st.sampled_from(
    ["a", "b", "grey", "rgb", "#ff0000", "#zz", ""]) | st.text(max_size=5)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner,
                                                                 max_size=4),
    max_leaves=20,
)


@FUZZ
@given(JSONISH | st.dictionaries(st.sampled_from(KEYS), JSONISH, max_size=5))
def test_class_dicts_give_only_pixelseg_errors(d):
    try:
        ClassSet.from_dict(d)
    except PixelsegError:
        pass
