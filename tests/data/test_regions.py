"""Regions of interest in the data stage: reading masks, void outside, PairedDatastore.with_regions,
count_each_label inside only, and the data: block's ``regions`` key (issue 15)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from pixelseg import ImageDatastore, PixelLabelDatastore, combine, count_each_label
from pixelseg.data.combining import attach_files
from pixelseg.data.regions import as_region, read_region_mask, rectangle_mask, void_outside
from pixelseg.data.spec import open_data
from pixelseg.errors import ConfigurationError, DataError

# 4 x 4 labels: left half class 0, right half class 1; the region is the top 3 rows.
LABELS = np.array([[0, 0, 1, 1]] * 4, np.uint8)
REGION = np.zeros((4, 4), np.uint8)
REGION[:3] = 255


def _pairs(tmp_path, n: int = 2):
    for d in ("images", "labels", "masks"):
        (tmp_path / d).mkdir()
    for i in range(n):
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "images" / f"{i}.png")
        Image.fromarray(LABELS).save(tmp_path / "labels" / f"{i}.png")
        region = REGION.copy()
        region[:, i] = 0  # each mask also leaves out column i
        Image.fromarray(region).save(tmp_path / "masks" / f"{i}.png")
    ds = combine(ImageDatastore(tmp_path / "images"), PixelLabelDatastore(tmp_path / "labels", ["a", "b"]))
    return ds, [str(tmp_path / "masks" / f"{i}.png") for i in range(n)]


def test_read_region_mask_any_nonzero_is_inside(tmp_path):
    values = np.array([[0, 1, 128], [255, 0, 0]], np.uint8)
    Image.fromarray(values).save(tmp_path / "grey.png")
    assert read_region_mask(tmp_path / "grey.png").tolist() == [[False, True, True], [True, False, False]]
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, 1, 2] = 9  # only the blue channel
    rgb[1, 0] = (255, 255, 255)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert read_region_mask(tmp_path / "rgb.png", (2, 3)).tolist() == [[False, True, False], [True, False, False]]


def test_a_gif_region_is_read_through_its_palette(tmp_path):
    """A palette whose index 0 is white: the white pixels are inside, whatever the index."""
    image = Image.fromarray(np.array([[0, 1]], np.uint8), mode="P")
    image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    image.save(tmp_path / "fov.gif")
    assert read_region_mask(tmp_path / "fov.gif").tolist() == [[True, False]]


def test_a_region_of_another_size_names_the_file_and_both_sizes(tmp_path):
    Image.fromarray(REGION).save(tmp_path / "m.png")
    with pytest.raises(DataError, match=r"m\.png: the region mask is 4 x 4 \(H x W\) but the image is 5 x 4"):
        read_region_mask(tmp_path / "m.png", (5, 4))
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_region_mask(tmp_path / "nope.png")


def test_void_outside_and_the_region_forms():
    region = REGION > 0
    expected = LABELS.copy()
    expected[3] = 255
    assert void_outside(LABELS, region).tolist() == expected.tolist()
    assert void_outside(LABELS, None) is LABELS
    assert as_region(REGION, (4, 4)).tolist() == region.tolist()  # 0/255 numbers
    assert as_region(torch.from_numpy(region), (4, 4)).tolist() == region.tolist()
    # rectangle (x, y, width, height), 0-based: columns 1..2, rows 0..2
    assert np.argwhere(rectangle_mask((1, 0, 2, 3), (4, 4))).tolist() == [[r, c] for r in range(3) for c in (1, 2)]
    with pytest.raises(ConfigurationError, match="0-based"):
        rectangle_mask((1, 1, 4, 4), (4, 4))  # MATLAB's 1-based [1 1 4 4]
    with pytest.raises(DataError, match="4 x 3"):
        void_outside(LABELS, np.ones((4, 3), bool))


def test_with_regions_voids_the_outside_and_follows_subsets(tmp_path):
    ds, masks = _pairs(tmp_path)
    regioned = ds.with_regions(masks)
    for i in range(2):
        label = regioned.read(i)[1]
        assert (label == 255).sum() == 4 + 3  # the bottom row and column i of the top 3 rows
        assert label[0, i] == 255 and label[0, 1 - i] == LABELS[0, 1 - i]
    assert ds.read(0)[1].tolist() == LABELS.tolist()  # the original is unchanged
    swapped = regioned.subset([1, 0])
    assert [p.name for p in swapped.region_files] == ["1.png", "0.png"]
    assert swapped.read(0)[1][0, 1] == 255
    one = ds.with_regions(masks[0])  # one mask for all
    assert all(one.read(i)[1][0, 0] == 255 for i in range(2))
    assert ds.with_regions([masks[0], None]).read(1)[1].tolist() == LABELS.tolist()
    assert regioned.with_regions(None).region_files is None


def test_with_regions_uses_the_region_column_a_layout_attached(tmp_path):
    ds, masks = _pairs(tmp_path)
    ds = attach_files(ds, "region", masks, ["0", "1"])
    assert ds.with_regions("region").region_files == ds.extra_files("region")
    tensors = ds.with_regions("region").as_tensors()
    assert int((tensors[1][1] == 255).sum()) == 7


def test_with_regions_errors(tmp_path):
    ds, masks = _pairs(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"region mask region does not exist \(this datastore's extra files: \[\]\)"):
        ds.with_regions("region")
    with pytest.raises(ConfigurationError, match="1 regions given for 2 images"):
        ds.with_regions(masks[:1])
    Image.fromarray(np.ones((3, 3), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(DataError, match=r"small\.png: the region mask is 3 x 3"):
        ds.with_regions(tmp_path / "small.png").read(0)
    assert any("small.png is 3 x 3" in p for p in ds.with_regions(tmp_path / "small.png").check_sizes())


def test_count_each_label_counts_inside_only(tmp_path):
    """Per image inside: 12 - 3 = 9 pixels. Image 0 leaves out column 0 (class 0), image 1
    column 1 (class 0): class 0 has 2 * (6 - 3) = 6 pixels, class 1 2 * 6 = 12; each image
    counts 9 pixels, so image_pixel_count is 18 for both classes."""
    ds, masks = _pairs(tmp_path)
    table = count_each_label(ds.with_regions(masks))
    assert table["pixel_count"].tolist() == [6, 12]
    assert table["image_pixel_count"].tolist() == [18, 18]
    assert count_each_label(ds)["pixel_count"].tolist() == [16, 16]  # without regions: every pixel


def _folders_block(tmp_path, **extra):
    classes = tmp_path / "classes.json"
    classes.write_text(json.dumps({"names": ["a", "b"]}))
    block = {"train": {"images": str(tmp_path / "images"), "labels": str(tmp_path / "labels"),
                       "regions": str(tmp_path / "masks")}, **extra}
    return block, classes


def test_the_data_block_uses_the_region_files_by_default(tmp_path):
    _pairs(tmp_path)
    block, classes = _folders_block(tmp_path)
    ds = open_data(block, classes).split("train")
    assert [p.name for p in ds.region_files] == ["0.png", "1.png"]
    assert (ds.read(0)[1] == 255).sum() == 7
    off = open_data({**block, "regions": False}, classes).split("train")
    assert off.region_files is None and (off.read(0)[1] == 255).sum() == 0


def test_the_data_block_regions_file_and_true(tmp_path):
    _pairs(tmp_path)
    block, classes = _folders_block(tmp_path)
    one = open_data({**block, "regions": str(tmp_path / "masks" / "1.png")}, classes).split("train")
    assert {p.name for p in one.region_files} == {"1.png"}
    assert one.read(0)[1][0, 1] == 255
    no_regions = {"train": {k: v for k, v in block["train"].items() if k != "regions"}}
    with pytest.raises(ConfigurationError, match="data.regions is true but split 'train' has no region files"):
        open_data({**no_regions, "regions": True}, classes)
    with pytest.raises(ConfigurationError, match="data.regions"):
        open_data({**no_regions, "regions": 3}, classes)
