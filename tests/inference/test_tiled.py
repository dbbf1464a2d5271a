"""Tiled inference: agreement with whole-image inference, streaming blend, TIFF in/out."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import semanticseg, semanticseg_tiled
from pixelseg.inference.tiled import _Axis, blend_window

from .conftest import ShapeRecorder, TinyConvNet, expected_dominant


@pytest.fixture(scope="module")
def net():
    return TinyConvNet().eval()


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(1).integers(0, 256, (70, 90, 3), dtype=np.uint8)


def _naive_blend(image, net, tile, overlap, window):
    """Reference: full-size weighted accumulation of every tile's softmax scores."""
    h, w, _ = image.shape
    rows, cols = _Axis(h, tile, overlap), _Axis(w, tile, overlap)
    padded = np.pad(image, ((0, rows.padded - h), (0, cols.padded - w), (0, 0)), mode="symmetric")
    acc = np.zeros((net.num_classes, rows.padded, cols.padded))
    weights = np.outer(blend_window(rows.size, window), blend_window(cols.size, window))
    for i in range(rows.count):
        for j in range(cols.count):
            y, x = rows.start(i), cols.start(j)
            _, p = semanticseg(padded[y : y + rows.size, x : x + cols.size], net, all_scores=True, device="cpu")
            acc[:, y : y + rows.size, x : x + cols.size] += p * weights
    return acc[:, :h, :w].argmax(0)


@pytest.mark.parametrize("tile,overlap,window", [(32, 8, "cosine"), (24, 12, "triangular"), (40, 0, "uniform")])
def test_streaming_blend_equals_full_accumulation(image, net, tile, overlap, window):
    tiled = semanticseg_tiled(image, net, tile_size=tile, overlap=overlap, window=window,
                              mini_batch_size=3, device="cpu", progress=False)
    assert tiled.dtype == np.uint8 and tiled.shape == (70, 90)
    assert np.array_equal(tiled, _naive_blend(image, net, tile, overlap, window))


def test_tiled_agrees_with_whole_image_away_from_the_border(image, net):
    whole, probs = semanticseg(image, net, all_scores=True, device="cpu")
    tiled = semanticseg_tiled(image, net, tile_size=32, overlap=16, device="cpu", progress=False)
    inner = (slice(3, -3), slice(3, -3))  # the network's receptive-field radius is 3
    differ = tiled[inner] != whole[inner]
    assert differ.mean() < 0.005
    # the few interior disagreements are near-ties of the whole-image scores, not seams
    top2 = np.sort(probs, axis=0)[-2:]
    assert np.all((top2[1] - top2[0])[inner][differ] < 0.05)


def test_one_tile_is_exactly_whole_image(image, net):
    assert np.array_equal(
        semanticseg_tiled(image, net, tile_size=128, device="cpu", progress=False),
        semanticseg(image, net, device="cpu"),
    )


def test_pointwise_network_has_no_seams_at_all(dominant_net):
    img = np.random.default_rng(3).integers(0, 256, (50, 61, 3), dtype=np.uint8)
    out = semanticseg_tiled(img, dominant_net, tile_size=16, overlap=4, device="cpu", progress=False)
    assert np.array_equal(out, expected_dominant(img))


def test_tiff_in_tiff_out_matches_array_path(tmp_path, image, net):
    src = tmp_path / "scene.tif"
    tifffile.imwrite(src, image, tile=(32, 32), compression="zlib")
    planar = tmp_path / "planar.tif"
    tifffile.imwrite(planar, np.moveaxis(image, -1, 0), photometric="rgb", planarconfig="separate", rowsperstrip=8)
    expected = semanticseg_tiled(image, net, tile_size=32, overlap=8, device="cpu", progress=False)
    out = semanticseg_tiled(src, net, tmp_path / "labels.tif", tile_size=32, overlap=8,
                            device="cpu", progress=False, tiff_tile=16)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0]
        assert page.is_tiled and page.tilewidth == 16 and page.photometric == 3  # palette
        assert page.colormap.shape == (3, 256)
        assert np.array_equal(page.asarray(), expected)
    assert np.array_equal(semanticseg_tiled(planar, net, tile_size=32, overlap=8, device="cpu", progress=False), expected)
    with pytest.raises(FileExistsError, match="labels.tif"):
        semanticseg_tiled(src, net, out, tile_size=32, device="cpu", progress=False)


def test_png_output_carries_palette(tmp_path, image, net):
    from PIL import Image

    out = semanticseg_tiled(image, net, tmp_path / "labels.png", tile_size=32, overlap=8, device="cpu", progress=False)
    with Image.open(out) as png:
        assert png.mode == "P"
        assert np.array_equal(np.asarray(png), semanticseg_tiled(image, net, tile_size=32, overlap=8, device="cpu", progress=False))


def test_bad_options_and_inputs(tmp_path, image, net, dominant_net):
    with pytest.raises(ConfigurationError, match="overlap"):
        semanticseg_tiled(image, net, tile_size=32, overlap=20, device="cpu")
    with pytest.raises(ConfigurationError, match="window"):
        semanticseg_tiled(image, net, window="gauss", device="cpu")
    with pytest.raises(ConfigurationError, match="4 channel.*takes 3"):
        semanticseg_tiled(np.zeros((8, 8, 4), np.uint8), net, device="cpu")
    with pytest.raises(DataError, match="does not exist"):
        semanticseg_tiled(tmp_path / "missing.tif", net, device="cpu")
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.zeros((2, 3, 8, 8), np.uint8), photometric="minisblack")
    with pytest.raises(DataError, match="axes"):
        semanticseg_tiled(stack, net, device="cpu")


def test_rgba_tiff_alpha_is_dropped(tmp_path, image, net):
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    src = tmp_path / "rgba.tif"
    tifffile.imwrite(src, rgba, photometric="rgb", extrasamples=["unassalpha"], tile=(32, 32))
    expected = semanticseg_tiled(image, net, tile_size=32, overlap=8, device="cpu", progress=False)
    assert np.array_equal(semanticseg_tiled(src, net, tile_size=32, overlap=8, device="cpu", progress=False), expected)


@pytest.mark.parametrize("length,tile,overlap", [(200, 64, 8), (2048, 512, 64), (513, 512, 64), (97, 32, 16), (33, 32, 16)])
def test_tile_layout_covers_the_image_with_the_fewest_smallest_tiles(length, tile, overlap):
    axis = _Axis(length, tile, overlap)
    assert axis.padded >= length and axis.size <= tile and axis.step >= axis.overlap
    fewest = 1 + -(-(length - tile) // (tile - overlap)) if length > tile else 1
    assert axis.count == fewest
    if axis.count > 1:  # one pixel smaller would no longer cover the image (or be below 2 x overlap)
        assert (axis.count - 1) * (axis.size - 1 - overlap) + axis.size - 1 < length or axis.size == 2 * overlap


def test_tiles_compute_little_padding():
    """200 x 200 in tiles of 64 with overlap 8: 4 x 4 tiles of 56, not of 64 (23 % fewer pixels)."""
    net = ShapeRecorder().eval()
    image = np.random.default_rng(2).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    semanticseg_tiled(image, net, tile_size=64, overlap=8, mini_batch_size=4, device="cpu", progress=False)
    assert set(net.seen) == {(56, 56)} and len(net.seen) == 4


def test_files_are_read_as_the_untiled_path_reads_them(tmp_path, image, net):
    """Reported from a break-it session: grey and grey + alpha files, which semanticseg reads
    (grey repeated to RGB, alpha dropped), were refused by the tiled path."""
    from PIL import Image

    grey = image[..., 0]
    Image.fromarray(grey).save(tmp_path / "grey.png")
    Image.fromarray(np.dstack([grey, np.full_like(grey, 200)]), mode="LA").save(tmp_path / "grey_alpha.png")
    tifffile.imwrite(tmp_path / "grey.tif", grey, tile=(32, 32))
    tifffile.imwrite(tmp_path / "grey_alpha.tif", np.dstack([grey, np.full_like(grey, 200)]),
                     photometric="minisblack", extrasamples=["unassalpha"], planarconfig="contig")
    h, w = grey.shape
    for name in ("grey.png", "grey_alpha.png", "grey.tif", "grey_alpha.tif"):
        whole = semanticseg(tmp_path / name, net, device="cpu")
        tiled = semanticseg_tiled(tmp_path / name, net, tile_size=max(h, w), device="cpu", progress=False)
        assert np.array_equal(tiled, whole), name
    with pytest.raises(ConfigurationError, match="4 channel"):  # an array's 4th channel may be data
        semanticseg_tiled(np.zeros((8, 8, 4), np.uint8), net, device="cpu")
    with pytest.raises(DataError, match="empty: its size is 0 x 10"):
        semanticseg_tiled(np.zeros((0, 10, 3), np.uint8), net, device="cpu")


def test_a_damaged_tile_names_the_file_and_rows(tmp_path, image, net):
    """A TIFF whose compressed tile bytes are damaged raised the codec's own error (zlib's
    "incorrect header check", or a ValueError from the store) from deep inside zarr."""
    src = tmp_path / "damaged.tif"
    tifffile.imwrite(src, image, tile=(32, 32), compression="zlib")
    with tifffile.TiffFile(src) as tif:
        offset = tif.pages[0].dataoffsets[4]  # the second row of tiles
    with open(src, "r+b") as f:
        f.seek(offset)
        f.write(b"\xff" * 16)
    with pytest.raises(DataError, match=r"damaged.tif: rows \d+-\d+ cannot be read; the file is damaged"):
        semanticseg_tiled(src, net, tmp_path / "labels.tif", tile_size=32, overlap=8, device="cpu", progress=False)
    assert not (tmp_path / "labels.tif").exists()  # nothing half-written is left
