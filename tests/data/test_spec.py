"""The ``data:`` schema (pixelseg.data.spec): every key checked at every depth, layout options
flat, reading options applied; and the encodings found on the way (grey palettes, RGB
triplets in class files)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet, PixelLabelDatastore
from pixelseg.data.spec import open_data, parse_data_spec
from pixelseg.errors import ConfigurationError
from pixelseg.workflow.train_config import load_job


@pytest.mark.parametrize("raw, message", [
    ({"root": "x", "tolerence": 3}, r"^data\.tolerence: unknown key \(did you mean 'tolerance'\?\)$"),
    ({"root": "x", "layout": "suffix", "label_sufix": "_m"}, r"data\.label_sufix: unknown key \(did you mean 'label_suffix'"),
    ({"train": {"images": "a", "labls": "b"}}, r"data\.train\.labls: unknown key \(did you mean 'labels'\?\)"),
    ({"root": "x", "layout": "voc"}, r"data\.layout='voc': unknown layout 'voc' \(did you mean 'pascal-voc'\?\)"),
    ({"root": "x", "layout": "camvid", "image_dir": "a"}, r"data\.image_dir: unknown key"),
    ({"root": "x", "palette": "colours"}, r"data\.palette='colours'"),
    ({"root": "x", "train": {"images": "a", "labels": "b"}}, r"either 'root'.*or 'train'"),
    ({"root": "x", "split": [0.8]}, r"split must be two fractions"),
])
def test_bad_keys_and_values_are_named(raw, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_data_spec(raw)


def test_layout_options_sit_next_to_the_other_keys():
    spec = parse_data_spec({"root": "x", "layout": "suffix", "label_suffix": "_m", "threshold": 128})
    assert spec.layout_options == {"label_suffix": "_m"} and spec.read_options() == {"threshold": 128}


def test_an_unknown_key_in_train_yaml_names_the_file_and_the_nearest_key(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("data: {root: camvid, tolerence: 127}\n")
    with pytest.raises(ConfigurationError, match=r"train\.yaml: data\.tolerence: unknown key \(did you mean 'tolerance'"):
        load_job(config)


def test_folders_per_split_are_paired_by_path_and_read_with_the_options(tmp_path):
    for split in ("train", "val"):
        (tmp_path / split / "img").mkdir(parents=True)
        (tmp_path / split / "lbl").mkdir()
        Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(tmp_path / split / "img" / "a.png")
        soft = np.array([[0, 90, 200, 255, 255, 0]] * 4, np.uint8)
        Image.fromarray(soft).save(tmp_path / split / "lbl" / "a_mask.png")
    spec = {split: {"images": tmp_path / key / "img", "labels": tmp_path / key / "lbl", "label_suffix": "_mask"}
            for split, key in (("train", "train"), ("validation", "val"))}
    opened = open_data({**spec, "threshold": 128}, ClassSet(["background", "object"], label_ids=[0, 255]))
    assert sorted(opened.splits) == ["train", "val"] and opened.validation is opened.splits["val"]
    assert opened.splits["train"].read(0)[1][0].tolist() == [0, 0, 1, 1, 1, 0]


def test_a_grey_palette_mask_is_read_as_its_grey_values_when_only_those_are_declared(tmp_path):
    """A 0/255 mask saved as GIF is a palette image whose indices are 0/1: with label ids
    0/255 the grey values are meant; with ids 0/1 the indices still are."""
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 255
    Image.fromarray(mask).save(tmp_path / "m.gif")
    assert Image.open(tmp_path / "m.gif").mode == "P"
    grey = PixelLabelDatastore([tmp_path / "m.gif"], ClassSet(["bg", "vessel"], label_ids=[0, 255]))
    assert int((grey.read(0) == 1).sum()) == 6
    indices = PixelLabelDatastore([tmp_path / "m.gif"], ClassSet(["bg", "vessel"]))
    assert int((indices.read(0) == 1).sum()) == 6
    thresholded = PixelLabelDatastore([tmp_path / "m.gif"], ClassSet(["bg", "vessel"], label_ids=[0, 255]),
                                      threshold=128)
    assert int((thresholded.read(0) == 1).sum()) == 6  # indices 0/1 would all be background


def test_rgb_triplets_in_a_class_file_are_colours_when_grey_ids_would_clash(tmp_path):
    path = tmp_path / "classes.json"
    path.write_text(json.dumps({"names": ["leaf", "stem"], "label_ids": [[48, 112, 32], [176, 112, 32]]}))
    classes = ClassSet.load(path)
    assert classes.id_type == "rgb" and list(classes.label_ids[1]) == [(176, 112, 32)]
    path.write_text(json.dumps({"names": ["vehicle", "road"], "label_ids": [[26, 27, 28], [7, 8, 9]]}))
    assert ClassSet.load(path).id_type == "grey"  # three grey IDs per class: no clash
