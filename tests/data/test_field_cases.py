"""Awkward label data met in the field, each with its right answer: lossy (JPEG) label files,
palette PNGs, 16-bit PNGs, values that are neither class nor void, stray colours, mask
resizing and pairing by file name."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch
from PIL import Image

from pixelseg.data import (
    VOID,
    ClassSet,
    ImageDatastore,
    LabelSnapWarning,
    PixelLabelDatastore,
    Resize,
    combine,
    read_label,
    read_label_raw,
)
from pixelseg.data.palettes import voc_colormap
from pixelseg.errors import DataError


# ---------------------------------------------------------------- lossy (JPEG) label files
def _c01_jpeg(tmp_path, edge=8):
    mask = np.zeros((16, 16), dtype=np.uint8)
    mask[:, edge:] = 255
    path = tmp_path / "mask.jpg"
    Image.fromarray(mask).save(path, quality=75)
    return path


def test_c01_jpeg_label_refused_by_default_naming_file_and_reason(tmp_path):
    path = _c01_jpeg(tmp_path)
    classes = ClassSet(["background", "object"], label_ids=[0, 255])
    pxds = PixelLabelDatastore(path, classes)
    with pytest.raises(DataError) as info:
        pxds.read(0)
    message = str(info.value)
    assert str(path) in message
    assert "lossy compression changes label values" in message


def test_c01_jpeg_data_hidden_behind_png_name_also_refused(tmp_path):
    path = _c01_jpeg(tmp_path)
    disguised = tmp_path / "mask.png"
    disguised.write_bytes(path.read_bytes())
    with pytest.raises(DataError, match="lossy compression"):
        read_label_raw(disguised)


def test_c01_allowed_jpeg_still_errors_on_in_between_values_with_counts(tmp_path):
    # an edge inside a JPEG 8 x 8 block (the case's edge at column 8 lies on the block grid,
    # which libjpeg may reproduce exactly)
    path = _c01_jpeg(tmp_path, edge=5)
    raw = read_label_raw(path, allow_jpeg=True)
    stray = raw[(raw != 0) & (raw != 255)]
    assert stray.size > 0  # the JPEG really did change values
    classes = ClassSet(["background", "object"], label_ids=[0, 255])
    pxds = PixelLabelDatastore(path, classes, allow_jpeg=True)
    with pytest.raises(DataError) as info:
        pxds.read(0)
    message = str(info.value)
    assert str(path) in message
    values, counts = np.unique(stray, return_counts=True)
    top = int(np.argmax(counts))
    assert f"{int(values[top])}: {int(counts[top])} pixels" in message


# ---------------------------------------------------------------- palette PNG
def test_c02_palette_png_read_as_indices(tmp_path):
    indices = np.array([0, 1, 15, 16, 255], dtype=np.uint8)
    data = np.resize(indices, (8, 8)).astype(np.uint8)
    image = Image.fromarray(data, mode="P")
    image.putpalette(voc_colormap(256).reshape(-1).tolist())
    path = tmp_path / "voc.png"
    image.save(path)
    # converting to grey would collide indices 1 and 16; the reader must not do that
    grey = np.asarray(Image.open(path).convert("L"))
    assert grey[data == 1][0] == grey[data == 16][0]

    raw = read_label_raw(path)
    np.testing.assert_array_equal(raw, data)
    assert set(np.unique(raw).tolist()) == {0, 1, 15, 16, 255}

    classes = ClassSet([f"c{i}" for i in range(21)], void_ids=[255])
    labels = PixelLabelDatastore(path, classes).read(0)
    np.testing.assert_array_equal(labels, data)  # indices kept, 255 = VOID
    assert labels[data == 255].tolist() == [VOID] * int((data == 255).sum())


# ---------------------------------------------------------------- 16-bit PNG
@pytest.mark.parametrize("extra", [None, 300])
def test_c03_16bit_png_read_at_full_depth(tmp_path, extra):
    data = np.zeros((8, 8), dtype=np.uint16)
    data[:4, 4:], data[4:, :4], data[4:, 4:] = 1, 2, 3
    if extra is not None:
        data[0, 0] = extra
    path = tmp_path / "deep.png"
    Image.fromarray(data).save(path)
    raw = read_label_raw(path)
    assert raw.dtype == np.uint16
    np.testing.assert_array_equal(raw, data)
    expected = {0, 1, 2, 3} | ({extra} if extra else set())
    assert set(np.unique(raw).tolist()) == expected

    if extra is not None:  # IDs above 255 work as class ids
        classes = ClassSet(["a", "b", "c", "d", "big"], label_ids=[0, 1, 2, 3, 300])
        labels = PixelLabelDatastore(path, classes).read(0)
        assert labels[0, 0] == 4 and labels.dtype == np.uint8


# ---------------------------------------------------------------- a value neither class nor void
def test_c04_value_neither_class_nor_void_is_an_error_naming_it():
    classes = ClassSet(["a", "b", "c"], void_ids=[255])
    truth = np.array([[0, 1, 2, 0, 255]])
    np.testing.assert_array_equal(classes.encode(truth), [[0, 1, 2, 0, 255]])
    with pytest.raises(DataError, match=r"7: 1 pixels"):
        classes.encode(np.array([[0, 1, 2, 7, 255]]), source="truth.png")


# ---------------------------------------------------------------- stray colours
def _c05_mask():
    mask = np.zeros((16, 16, 3), dtype=np.uint8)
    mask[:, :8] = (255, 0, 0)
    mask[:, 8:] = (0, 0, 255)
    mask[:, 8] = (128, 0, 128)
    mask[[1, 5, 9], [2, 3, 4]] = (254, 0, 0)
    return mask


def test_c05_stray_colours_listed_with_counts_and_file(tmp_path):
    path = tmp_path / "colour_mask.png"
    Image.fromarray(_c05_mask()).save(path)
    classes = ClassSet(["a", "b"], label_ids=[(255, 0, 0), (0, 0, 255)])
    with pytest.raises(DataError) as info:
        PixelLabelDatastore(path, classes).read(0)
    message = str(info.value)
    assert str(path) in message
    assert "(128, 0, 128): 16 pixels" in message
    assert "(254, 0, 0): 3 pixels" in message


def test_c05_tolerance_snaps_near_colour_and_reports_it(tmp_path):
    mask = _c05_mask()
    mask[:, 8] = (0, 0, 255)  # only the near-miss colour remains
    path = tmp_path / "colour_mask.png"
    Image.fromarray(mask).save(path)
    classes = ClassSet(["a", "b"], label_ids=[(255, 0, 0), (0, 0, 255)])
    with pytest.warns(LabelSnapWarning, match=r"snapped 3 pixels.*\(254, 0, 0\) -> \(255, 0, 0\) \('a'\): 3 pixels"):
        labels = PixelLabelDatastore(path, classes, tolerance=2).read(0)
    expected = np.zeros((16, 16), dtype=np.uint8)
    expected[:, 8:] = 1
    np.testing.assert_array_equal(labels, expected)


def test_c05_tolerance_does_not_snap_far_colours():
    classes = ClassSet(["a", "b"], label_ids=[(255, 0, 0), (0, 0, 255)])
    with pytest.raises(DataError, match=r"\(128, 0, 128\): 16 pixels"):
        classes.encode(_c05_mask(), tolerance=2)


# ---------------------------------------------------------------- mask resizing
def test_c09_upsampled_mask_keeps_exact_values():
    mask = np.zeros((4, 4), dtype=np.uint8)
    mask[:, 2:] = 10
    _, out = Resize((8, 8))(np.zeros((4, 4, 3), np.uint8), mask)
    assert out.shape == (8, 8)
    assert set(np.unique(out).tolist()) == {0, 10}
    np.testing.assert_array_equal(out[:, :4], 0)
    np.testing.assert_array_equal(out[:, 4:], 10)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_c09_downsampling_samples_pixel_centres(as_tensor):
    mask = np.tile(np.arange(6, dtype=np.uint8), (6, 1))
    image = np.repeat(mask[:, :, None], 3, axis=2).astype(np.uint8) * 40
    if as_tensor:
        image_in = torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32))
        mask_in = torch.from_numpy(mask.astype(np.int64))
    else:
        image_in, mask_in = image, mask
    image_out, out = Resize((6, 2), antialias=False)(image_in, mask_in)
    out = np.asarray(out)
    assert out.shape == (6, 2)
    np.testing.assert_array_equal(out, np.tile([1, 4], (6, 1)))
    # aligned with the image resized the same way: bilinear sampling at pixel centres
    # (align_corners=False) reads the image at source columns 1 and 4 exactly
    row = image_out[0, 0, :] if as_tensor else image_out[0, :, 0]
    np.testing.assert_allclose(np.asarray(row, dtype=float), [40, 160], atol=1e-4)
    _, out_aa = Resize((6, 2))(image_in, mask_in)  # antialiasing never touches labels
    np.testing.assert_array_equal(np.asarray(out_aa), out)


# ---------------------------------------------------------------- pairing by file name
def _c10(tmp_path):
    img_dir, lbl_dir = tmp_path / "images", tmp_path / "labels"
    img_dir.mkdir()
    lbl_dir.mkdir()
    numbers = [1, 2, 10]
    random.Random(3).shuffle(numbers)
    for n in numbers:
        Image.fromarray(np.full((4, 4, 3), n, np.uint8)).save(img_dir / f"img_{n}.png")
        Image.fromarray(np.full((4, 4), n, np.uint8)).save(lbl_dir / f"img_{n}_L.png")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(lbl_dir / "orphan_L.png")
    classes = ClassSet([f"c{i}" for i in range(11)])
    return ImageDatastore(img_dir), PixelLabelDatastore(lbl_dir, classes)


def test_c10_orphan_reported_by_name(tmp_path):
    imds, pxds = _c10(tmp_path)
    with pytest.raises(DataError, match=r"label file\(s\) without an image: .*orphan_L\.png"):
        combine(imds, pxds, label_suffix="_L")


def test_c10_image_without_label_reported_by_name(tmp_path):
    imds, pxds = _c10(tmp_path)
    (tmp_path / "labels" / "img_2_L.png").unlink()
    (tmp_path / "labels" / "orphan_L.png").unlink()
    pxds = PixelLabelDatastore(tmp_path / "labels", pxds.class_set)
    with pytest.raises(DataError, match=r"image\(s\) without a label: .*img_2\.png"):
        combine(imds, pxds, label_suffix="_L")


def test_c10_pairs_by_stem_in_natural_order(tmp_path):
    imds, pxds = _c10(tmp_path)
    with pytest.warns(UserWarning, match="orphan_L"):
        ds = combine(imds, pxds, label_suffix="_L", unpaired="warn")
    assert ds.pair_names == ["img_1", "img_2", "img_10"]
    for n, (image, label) in zip([1, 2, 10], ds, strict=True):
        assert image[0, 0, 0] == n and label[0, 0] == n
    assert [p.name for p in ds.labels.files] == ["img_1_L.png", "img_2_L.png", "img_10_L.png"]
    assert re.search("orphan", " ".join(str(f) for f in ds.labels.files)) is None


def _blocks() -> np.ndarray:
    return np.kron(np.random.default_rng(0).integers(0, 5, (4, 4)), np.ones((4, 4), int)).astype(np.uint8)


def test_c01_lossy_tiff_and_webp_labels_refused_too(tmp_path):
    """C01's kind beyond .jpg: JPEG-compressed TIFF and lossy WebP label files changed 39 and
    173 of 256 pixels to other declared classes, silently."""
    import tifffile

    classes = ClassSet([f"c{i}" for i in range(8)])
    tifffile.imwrite(tmp_path / "l.tif", _blocks(), compression="jpeg")
    Image.fromarray(_blocks()).save(tmp_path / "l.webp", quality=75)
    for path, what in ((tmp_path / "l.tif", "TIFF with JPEG compression"), (tmp_path / "l.webp", "lossy WebP")):
        with pytest.raises(DataError) as info:
            read_label(path, classes)
        assert str(path) in str(info.value) and what in str(info.value)
        assert "lossy compression" in str(info.value)


def test_c01_lossless_webp_and_tiff_labels_still_read(tmp_path):
    import tifffile

    classes = ClassSet([f"c{i}" for i in range(8)])
    tifffile.imwrite(tmp_path / "l.tif", _blocks(), compression="zlib")
    Image.fromarray(_blocks()).save(tmp_path / "l.webp", lossless=True)
    for path in (tmp_path / "l.tif", tmp_path / "l.webp"):
        np.testing.assert_array_equal(read_label(path, classes), _blocks())


def test_unpaired_error_names_the_label_suffix_that_would_pair(tmp_path):
    """CamVid-style ``<frame>_L.png`` labels paired by plain stem: the error names the option."""
    from pixelseg.data.suffix_hint import suffix_hint

    (tmp_path / "img").mkdir()
    (tmp_path / "lbl").mkdir()
    for stem in ("0001TP_006690", "0001TP_006720"):
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "img" / f"{stem}.png")
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "lbl" / f"{stem}_L.png")
    imds = ImageDatastore(tmp_path / "img")
    pxds = PixelLabelDatastore(tmp_path / "lbl", ClassSet(["a", "b"]))
    with pytest.raises(DataError, match=r"hint: label_suffix '_L' would pair them"):
        combine(imds, pxds)
    assert suffix_hint(["a", "b"], ["c"], ["a", "b"], ["c"], "x", "y") == ""  # nothing pairs: no hint


def test_c01_jpeg_bytes_under_a_tiff_name_are_refused_as_jpeg(tmp_path):
    """A JPEG saved as ``mask.tif``: the error says it holds JPEG data (it was tifffile's
    "not a TIFF file"); a PNG under a TIFF name reads."""
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "mask.tif", format="JPEG")
    with pytest.raises(DataError, match=r"mask\.tif: refusing to read a JPEG.*holds JPEG data despite its name"):
        PixelLabelDatastore([tmp_path / "mask.tif"], ClassSet(["a", "b"])).read(0)
    Image.fromarray(np.ones((8, 8), np.uint8)).save(tmp_path / "png.tiff", format="PNG")
    assert PixelLabelDatastore([tmp_path / "png.tiff"], ClassSet(["a", "b"])).read(0).max() == 1
