"""Hostile and damaged files: a pixel-count limit checked from the header before decoding,
and every decoder failure a DataError naming the file (issue 19)."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
import tifffile
from PIL import Image

from pixelseg.data import ClassSet, image_size, read_image, read_label_raw
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils import pixel_limit
from pixelseg.utils.pixel_limit import ENV_VAR, max_image_pixels, set_max_image_pixels

from .hostile_files import BAD_PGMS, gif_zero_width_frame, npy_header_only, png_corrupt_chunk, tiff_bomb

READERS = [read_image, read_label_raw, image_size]


@pytest.fixture(autouse=True)
def _default_limit(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    set_max_image_pixels("default")
    yield
    set_max_image_pixels("default")


@pytest.mark.parametrize("reader", READERS)
def test_tiff_bomb_refused_from_its_header(tmp_path, reader):
    path = tmp_path / "bomb.tif"
    path.write_bytes(tiff_bomb())
    assert path.stat().st_size == 128
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError, match=r"bomb\.tif: the file claims 11,341,408,117 pixels") as info:
            reader(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2 and peak < 20_000_000
    assert "89,478,485" in str(info.value) and ENV_VAR in str(info.value)


def test_limit_is_twice_pillows_and_can_be_raised_or_disabled(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(path)  # 600 pixels
    tifffile.imwrite(tmp_path / "big.tif", np.zeros((20, 30), np.uint8))
    assert max_image_pixels() == Image.MAX_IMAGE_PIXELS == 89_478_485
    monkeypatch.setenv(ENV_VAR, "299")
    for name in ("big.png", "big.tif"):
        for reader in READERS:
            with pytest.raises(DataError, match=rf"{name}: .*600 pixels.*(limit of 299|limit of 598)"):
                reader(tmp_path / name)
    monkeypatch.setenv(ENV_VAR, "300")  # 600 is not above twice 300
    assert read_image(tmp_path / "big.tif").shape == (20, 30, 3)
    with pytest.warns(Image.DecompressionBombWarning):  # Pillow warns above the limit itself
        assert read_image(path).shape == (20, 30, 3)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # pixelseg's setting wins over Pillow's
    for value in ("0", "none", "None"):
        monkeypatch.setenv(ENV_VAR, value)
        assert max_image_pixels() is None and read_image(path).shape == (20, 30, 3)
    assert Image.MAX_IMAGE_PIXELS == 10  # restored after the read
    set_max_image_pixels(100)  # the Python setting wins over the environment
    with pytest.raises(DataError, match="big.png: .*600 pixels"):
        image_size(path)
    set_max_image_pixels(None)
    assert image_size(tmp_path / "big.tif") == (20, 30)


@pytest.mark.parametrize("value", ["-5", "lots", "1.5"])
def test_bad_limit_values_are_configuration_errors(monkeypatch, value):
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(ConfigurationError, match=f"{ENV_VAR} must be a positive number.*{value}"):
        max_image_pixels()
    with pytest.raises(ConfigurationError, match="maximum image pixels"):
        set_max_image_pixels(-1)
    with pytest.raises(ConfigurationError):
        set_max_image_pixels(True)


def test_many_bands_count_against_the_limit(tmp_path):
    with pytest.raises(DataError, match=r"x\.tif: the file claims 100 pixels x 4000 bands"):
        set_max_image_pixels(100)
        pixel_limit.check_pixel_count(tmp_path / "x.tif", 100, bands=4000)
    pixel_limit.check_pixel_count(tmp_path / "x.tif", 100, bands=4)


def test_npy_header_bomb_and_truncated_npy(tmp_path):
    (tmp_path / "bomb.npy").write_bytes(npy_header_only((872_416_009, 13)))
    (tmp_path / "short.npy").write_bytes(npy_header_only((4, 5)) + b"\0" * 7)
    (tmp_path / "flat.npy").write_bytes(npy_header_only((5,)) + b"\0" * 5)
    (tmp_path / "garbage.npy").write_bytes(b"\x93NUMPY\x01\x00\xff\xff{")
    for reader in (read_label_raw, image_size):
        with pytest.raises(DataError, match="bomb.npy: the file claims 11,341,408,117 pixels"):
            reader(tmp_path / "bomb.npy")
        with pytest.raises(DataError, match=r"short.npy: the .npy file is shorter than its header's shape \(4, 5\)"):
            reader(tmp_path / "short.npy")
        with pytest.raises(DataError, match=r"flat.npy: the .npy array has shape \(5,\)"):
            reader(tmp_path / "flat.npy")
        with pytest.raises(DataError, match="garbage.npy: cannot read the .npy header"):
            reader(tmp_path / "garbage.npy")


@pytest.mark.parametrize("reader", [read_image, read_label_raw])
def test_png_with_a_corrupt_chunk_names_the_file(tmp_path, reader):
    path = tmp_path / "corrupt.png"
    path.write_bytes(png_corrupt_chunk())
    with pytest.raises(DataError, match=r"corrupt\.png: cannot read the image \(SyntaxError: broken PNG file"):
        reader(path)


@pytest.mark.parametrize("name", sorted(BAD_PGMS))
def test_malformed_pgm_names_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(BAD_PGMS[name])
    for reader in (read_image, read_label_raw):
        with pytest.raises(DataError, match=f"{name}: cannot read the image"):
            reader(path)
    if name == "letter_size.pgm":
        with pytest.raises(DataError, match=f"{name}: cannot read the image header"):
            image_size(path)


def test_malformed_gif_names_the_file(tmp_path):
    path = tmp_path / "bad.gif"
    path.write_bytes(gif_zero_width_frame())
    for reader in (read_image, read_label_raw):
        with pytest.raises(DataError, match=r"bad\.gif: cannot read the image \(ValueError"):
            reader(path)


def test_tiff_without_a_y_axis(tmp_path):
    path = tmp_path / "line.tif"
    tifffile.imwrite(path, np.zeros(5, np.uint8))  # axes "X"
    for reader in READERS:
        with pytest.raises(DataError, match=r"line\.tif: the TIFF holds axes 'X' of shape \(5,\) without a Y"):
            reader(path)


def test_stack_refused_before_decoding_but_sized(tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.zeros((3, 4, 5), np.uint8), photometric="minisblack")
    with pytest.raises(DataError, match=r"stack\.tif: the TIFF holds a stack of shape \(3, 4, 5\)"):
        read_image(path)
    assert image_size(path) == (4, 5)


def test_folders_and_missing_files(tmp_path):
    (tmp_path / "dir.png").mkdir()
    for reader in READERS:
        with pytest.raises(DataError, match="dir.png"):
            reader(tmp_path / "dir.png")
        with pytest.raises(FileNotFoundError, match="nope.tif"):
            reader(tmp_path / "nope.tif")


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".txt"])
def test_non_utf8_class_files_name_the_file(tmp_path, suffix):
    path = tmp_path / f"classes{suffix}"
    path.write_bytes('{"names": ["caf\u00e9"]}'.encode("latin-1") if suffix != ".txt" else b"caf\xe9\n")
    with pytest.raises(DataError, match=rf"classes\{suffix}: the class set file is not UTF-8 text \(byte 0xe9"):
        ClassSet.load(path)


def test_utf8_with_byte_order_mark_reads(tmp_path):
    path = tmp_path / "classes.json"
    path.write_bytes(b"\xef\xbb\xbf" + '{"names": ["caf\u00e9"]}'.encode())
    assert ClassSet.load(path).names == ["caf\u00e9"]


def test_tiled_inference_reads_tiffs_above_the_limit(tmp_path):
    """semanticseg on a TIFF path reads it band by band through its own reader: not limited."""
    from pixelseg.inference.tiled_io import open_image_source

    path = tmp_path / "large.tif"
    tifffile.imwrite(path, np.full((20, 30, 3), 7, np.uint8), photometric="rgb", tile=(16, 16))
    set_max_image_pixels(100)
    with pytest.raises(DataError, match="large.tif: the file claims 600 pixels"):
        read_image(path)
    with open_image_source(path, channels=3) as source:
        assert (source.height, source.width) == (20, 30)
        assert source.read_rows(0, 4).shape == (4, 30, 3) and source.read_rows(0, 4)[0, 0, 0] == 7
