"""Reading images and label files exactly, whatever they hold."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from pixelseg.data import image_size, read_image, read_label_raw
from pixelseg.errors import ConfigurationError, DataError

RGB = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3) * 3


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".tiff"])
def test_rgb_lossless_formats_round_trip(tmp_path, suffix):
    path = tmp_path / f"img{suffix}"
    if suffix.startswith(".tif"):
        tifffile.imwrite(path, RGB, photometric="rgb")
    else:
        Image.fromarray(RGB).save(path)
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (4, 6, 3)
    np.testing.assert_array_equal(out, RGB)
    assert image_size(path) == (4, 6)


def test_jpeg_image_reads_as_rgb(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.fromarray(RGB).save(path, quality=95)
    out = read_image(path)
    assert out.shape == (4, 6, 3) and out.dtype == np.uint8


def test_grey_alpha_palette_cmyk_become_rgb(tmp_path):
    grey = RGB[:, :, 0]
    Image.fromarray(grey).save(tmp_path / "g.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g.png"), np.repeat(grey[:, :, None], 3, axis=2))
    rgba = np.dstack([RGB, np.full((4, 6), 7, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), RGB)
    pal = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), "P")
    pal.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    pal.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png")[0], [[10, 20, 30], [40, 50, 60]])
    Image.fromarray(RGB).convert("CMYK").save(tmp_path / "c.jpg")
    out = read_image(tmp_path / "c.jpg")
    assert out.shape == (4, 6, 3) and out.dtype == np.uint8


def test_exif_orientation_applied(tmp_path):
    image = Image.fromarray(RGB)  # 4 x 6
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    image.save(tmp_path / "rot.jpg", exif=exif.tobytes(), quality=100)
    out = read_image(tmp_path / "rot.jpg")
    assert out.shape == (6, 4, 3)
    assert image_size(tmp_path / "rot.jpg") == (6, 4)


def test_16bit_image_kept_unless_scaling_asked(tmp_path):
    data = np.array([[0, 1000], [65535, 257]], dtype=np.uint16)
    Image.fromarray(data).save(tmp_path / "d.png")
    kept = read_image(tmp_path / "d.png")
    assert kept.dtype == np.uint16
    np.testing.assert_array_equal(kept[:, :, 1], data)
    scaled = read_image(tmp_path / "d.png", high_bit_depth="scale")
    assert scaled.dtype == np.uint8
    np.testing.assert_array_equal(scaled[:, :, 0], [[0, 4], [255, 1]])
    with pytest.raises(ConfigurationError, match="high_bit_depth"):
        read_image(tmp_path / "d.png", high_bit_depth="squash")


def test_multiband_tiff(tmp_path):
    bands = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    tifffile.imwrite(tmp_path / "m.tif", bands, photometric="minisblack", planarconfig="contig")
    out = read_image(tmp_path / "m.tif", channels=None)
    assert out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, bands)
    with pytest.raises(DataError, match="5 channels"):
        read_image(tmp_path / "m.tif")
    four = np.zeros((3, 4, 4), np.uint8)
    four[..., 3] = 9
    tifffile.imwrite(tmp_path / "nir.tif", four, photometric="rgb", extrasamples=[0])
    assert read_image(tmp_path / "nir.tif", channels=4)[0, 0, 3] == 9
    assert read_image(tmp_path / "nir.tif").shape == (3, 4, 3)


def test_decompression_bomb_is_a_clear_data_error(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(DataError, match="tiled inference") as info:
        read_image(tmp_path / "big.png")
    assert "big.png" in str(info.value)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "nope.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="junk.png"):
        read_image(tmp_path / "junk.png")
    with pytest.raises(DataError, match="junk.png"):
        read_label_raw(tmp_path / "junk.png")


def test_label_formats_raw_values(tmp_path):
    # 8-bit grey, 1-bit, RGBA colour mask, TIFF 16-bit, palette TIFF, npy
    grey = np.array([[0, 3], [7, 255]], np.uint8)
    Image.fromarray(grey).save(tmp_path / "g.png")
    np.testing.assert_array_equal(read_label_raw(tmp_path / "g.png"), grey)
    Image.fromarray(grey > 5).save(tmp_path / "b.png")
    np.testing.assert_array_equal(read_label_raw(tmp_path / "b.png"), [[0, 0], [1, 1]])
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0] = 200
    Image.fromarray(rgba, "RGBA").save(tmp_path / "c.png")
    out = read_label_raw(tmp_path / "c.png")
    assert out.shape == (2, 2, 3) and (out[..., 0] == 200).all()
    deep = np.array([[0, 300], [65535, 2]], np.uint16)
    tifffile.imwrite(tmp_path / "d.tif", deep)
    np.testing.assert_array_equal(read_label_raw(tmp_path / "d.tif"), deep)
    tifffile.imwrite(tmp_path / "p.tif", grey, photometric="palette", colormap=np.zeros((3, 256), np.uint16))
    np.testing.assert_array_equal(read_label_raw(tmp_path / "p.tif"), grey)
    np.save(tmp_path / "n.npy", np.array([[-1, 4]], np.int32))
    np.testing.assert_array_equal(read_label_raw(tmp_path / "n.npy"), [[-1, 4]])
    assert image_size(tmp_path / "n.npy") == (1, 2)
    np.save(tmp_path / "bad.npy", np.zeros((2, 2, 2, 2)))
    with pytest.raises(DataError, match="bad.npy"):
        read_label_raw(tmp_path / "bad.npy")
