"""Folder layouts on tiny synthetic datasets: nested groups, masks beside images, suffixes
with a region file, class from folder name; detection and the ``data:`` block of ``info``."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from PIL import Image

from pixelseg.data import ClassSet
from pixelseg.data.formats import detect_layout
from pixelseg.data.formats.detect_folders import common_suffix
from pixelseg.data.formats.layouts import open_layout
from pixelseg.data.report import inspect_dataset
from pixelseg.errors import ConfigurationError, DataError


def _save(array, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)


def _image(value=0):
    return np.full((4, 6, 3), value)


def _reopen(layout):
    """Open the folder from the data: block alone, as train.yaml will."""
    config = yaml.safe_load(layout.data_block())["data"]
    return open_layout(config.pop("root"), config.pop("layout"), **config)


def _nested(root, groups=("Tile 1", "Tile 2")):
    ClassSet(["bg", "a", "b"]).save(root / "classes.json")
    for k, group in enumerate(groups, start=1):
        for name in ("image_part_001", "image_part_002"):  # the same names in every group
            _save(_image(), root / group / "images" / f"{name}.jpg")
            _save(np.full((4, 6), k), root / group / "masks" / f"{name}.png")


def test_nested_groups_pair_by_relative_path(tmp_path):
    _nested(tmp_path)
    layout = detect_layout(tmp_path)
    assert layout.name == "nested" and layout.options == {"image_dir": "images", "label_dir": "masks"}
    ds = _reopen(layout)["all"]
    assert ds.pair_names == ["Tile 1/image_part_001", "Tile 1/image_part_002", "Tile 2/image_part_001",
                             "Tile 2/image_part_002"]  # fmt: skip
    assert [int(ds[i][1][0, 0]) for i in range(4)] == [1, 1, 2, 2]  # each image with its own group's mask


def test_nested_split_groups_and_unpaired(tmp_path):
    _nested(tmp_path, groups=("train", "val"))
    splits = open_layout(tmp_path, "nested")
    assert sorted(splits) == ["train", "val"] and len(splits["val"]) == 2
    (tmp_path / "val" / "masks" / "image_part_002.png").unlink()
    with pytest.raises(DataError, match=r"val/images/image_part_002.jpg"):
        open_layout(tmp_path, "nested")


def test_masks_beside_images(tmp_path):
    ClassSet(["bg", "fg"]).save(tmp_path / "classes.json")
    for i in (1, 2):
        _save(_image(), tmp_path / f"{i}.jpg")
        _save(np.full((4, 6), i - 1), tmp_path / f"{i}.png")
    layout = detect_layout(tmp_path)
    assert layout.name == "beside" and layout.options["image_ext"] == ".jpg"
    ds = _reopen(layout)["all"]
    assert ds.pair_names == ["1", "2"] and int(ds[1][1][0, 0]) == 1

    other = tmp_path / "suffixed"
    ClassSet(["bg", "fg"]).save(other / "classes.json") if other.mkdir() is None else None
    _save(_image(), other / "a.png")
    _save(np.ones((4, 6)), other / "a_mask.png")
    layout = detect_layout(other)
    assert layout.name == "beside" and layout.options["label_suffix"] == "_mask"
    ds = _reopen(layout)["all"]
    assert ds.pair_names == ["a"] and int(ds[0][1][0, 0]) == 1


def test_beside_without_a_way_to_tell_images_from_labels(tmp_path):
    ClassSet(["bg", "fg"]).save(tmp_path / "classes.json")
    _save(_image(), tmp_path / "a.png")
    with pytest.raises(ConfigurationError, match="label_suffix"):
        open_layout(tmp_path, "beside")


def _drive(root):
    ClassSet(["background", "vessel"], label_ids=[0, 255]).save(root / "classes.json")
    for i in (21, 22):
        _save(_image(), root / "images" / f"{i}_training.tif")
        truth = np.zeros((4, 6))
        truth[1, : i - 20] = 255
        _save(truth, root / "1st_manual" / f"{i}_manual1.png")
        _save(np.full((4, 6), 255), root / "mask" / f"{i}_training_mask.png")


def test_suffix_pairing_with_a_region_file_per_image(tmp_path):
    _drive(tmp_path)
    layout = detect_layout(tmp_path)
    assert layout.name == "suffix"
    assert layout.options == {"image_dir": "images", "label_dir": "1st_manual", "image_suffix": "_training",
                              "label_suffix": "_manual1", "region_dir": "mask", "region_suffix": "_training_mask"}
    ds = _reopen(layout)["all"]
    assert ds.pair_names == ["21", "22"]
    assert [int(ds[i][1].sum()) for i in range(2)] == [1, 2]
    assert [p.name for p in ds.extra_files("region")] == ["21_training_mask.png", "22_training_mask.png"]
    assert [p.name for p in ds.subset([1]).extra_files("region")] == ["22_training_mask.png"]
    (tmp_path / "mask" / "22_training_mask.png").unlink()
    with pytest.raises(DataError, match="without a region file: 22"):
        _reopen(layout)


def test_common_suffix():
    assert common_suffix(["21_training", "22_training"]) == "_training"
    assert common_suffix(["21_training"]) == "_training"
    assert common_suffix(["img_1", "img_2"]) == ""
    assert common_suffix(["x1_L", "x10_L"]) == "_L"


def test_class_from_folder_name(tmp_path):
    for name in ("0001", "0002"):
        _save(_image(), tmp_path / "images" / f"{name}.png")
    crack = np.zeros((4, 6))
    crack[0, :3] = 255
    crack[1, 0] = 90  # an anti-aliased edge below the default threshold
    _save(crack, tmp_path / "masks" / "crack" / "0001.png")
    scratch = np.zeros((4, 6))
    scratch[3, 5] = 1  # a 0/1 mask
    _save(scratch, tmp_path / "masks" / "scratch" / "0002.png")
    layout = detect_layout(tmp_path)
    assert layout.name == "class_folders" and layout.class_set.names == ["background", "crack", "scratch"]
    ds = _reopen(layout)["all"]
    assert ds.class_set.names == ["background", "crack", "scratch"]
    first, second = ds[0][1], ds[1][1]
    assert (first == 1).sum() == 3 and (first == 0).sum() == 21
    assert second[3, 5] == 2 and (second == 0).sum() == 23
    _save(_image(), tmp_path / "images" / "0003.png")
    with pytest.raises(DataError, match="0003.png"):
        open_layout(tmp_path, "class_folders")


def test_unknown_layout_and_option_name_the_nearest(tmp_path):
    with pytest.raises(ConfigurationError, match="did you mean 'label_suffix'"):
        open_layout(tmp_path, "nested", label_sufix="_mask")
    with pytest.raises(ConfigurationError, match="did you mean 'nested'"):
        open_layout(tmp_path, "nestd")


def test_info_ends_with_the_data_block(tmp_path, capsys):
    from pixelseg.cli import main

    _nested(tmp_path)
    report = inspect_dataset(tmp_path)
    assert not report.problems and report.splits[0].pairs == 4
    main(["info", str(tmp_path)])
    out = capsys.readouterr().out
    block = out[out.index("\ndata:"):]
    config = yaml.safe_load(block)
    assert config["data"] == {"root": str(tmp_path.resolve()), "layout": "nested", "image_dir": "images",
                              "label_dir": "masks"}  # fmt: skip
    assert config["classes"] == str(tmp_path / "classes.json")
