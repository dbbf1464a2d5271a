"""Format readers on tiny synthetic folders: CamVid colour masks, CVAT, generic, labelme,
and `pixelseg info` reporting every problem."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import VOID, ClassSet
from pixelseg.data.formats import (
    camvid_rgb_class_set,
    detect_layout,
    read_camvid_rgb,
    read_cvat,
    read_generic,
    read_labelmap,
)
from pixelseg.data.formats.camvid import CAMVID_32_COLORS, CAMVID_CLASSES
from pixelseg.data.report import inspect_dataset
from pixelseg.errors import DataError


def _save(array, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)


def test_camvid_32_class_colour_masks_grouped_into_11(tmp_path):
    colours = [CAMVID_32_COLORS[n] for n in ("Sky", "Wall", "TrafficCone", "LaneMkgsDriv", "Child", "Void")]
    mask = np.array(colours, np.uint8).reshape(2, 3, 3)
    _save(mask, tmp_path / "labels" / "0001TP_006690_L.png")
    _save(np.zeros((2, 3, 3)), tmp_path / "images" / "0001TP_006690.png")
    ds = read_camvid_rgb(tmp_path / "images", tmp_path / "labels")
    label = ds[0][1]
    expected = [CAMVID_CLASSES.index(c) for c in ("Sky", "Building", "Pole", "Road", "Pedestrian")] + [VOID]
    np.testing.assert_array_equal(label.reshape(-1), expected)
    assert camvid_rgb_class_set().num_classes == 11
    assert sum(len(ids) for ids in camvid_rgb_class_set().label_ids) == 31  # 32 minus Void


def _cvat_export(root):
    root.mkdir()
    (root / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\nbackground:0,0,0::\ncar:250,50,83::\nperson:61,245,61::\n"
    )
    mask = np.zeros((4, 4, 3), np.uint8)
    mask[1:3, 1:3] = (250, 50, 83)
    mask[0, 3] = (61, 245, 61)
    _save(mask, root / "SegmentationClass" / "frame_000001.png")
    _save(np.zeros((4, 4, 3)), root / "JPEGImages" / "frame_000001.jpg")
    return mask


def test_cvat_segmentation_mask_export(tmp_path):
    _cvat_export(tmp_path / "export")
    classes = read_labelmap(tmp_path / "export" / "labelmap.txt")
    assert classes.names == ["background", "car", "person"] and classes.id_type == "rgb"
    ds = read_cvat(tmp_path / "export")
    label = ds[0][1]
    assert label[1, 1] == 1 and label[0, 3] == 2 and label[0, 0] == 0
    assert detect_layout(tmp_path / "export").name == "cvat-mask-1.1"
    (tmp_path / "bad.txt").write_text("car;1,2,3\n")
    with pytest.raises(DataError, match="line 1"):
        read_labelmap(tmp_path / "bad.txt")


def test_generic_layout_with_suffix_detection(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    ClassSet(["bg", "fg"]).save(root / "classes.json")
    for i in (1, 2, 10):
        _save(np.zeros((3, 3, 3)), root / "images" / f"img_{i}.png")
        _save(np.full((3, 3), i % 2), root / "labels" / f"img_{i}_mask.png")
    ds = read_generic(root)
    assert ds.pair_names == ["img_1", "img_2", "img_10"]
    assert ds[2][1][0, 0] == 0 and ds[0][1][0, 0] == 1
    assert detect_layout(root).name == "generic"


def test_labelme_shapes(tmp_path):
    from pixelseg.data.formats.labelme import read_labelme_raw

    shapes = [
        {"label": "a", "points": [[1, 1], [4, 1], [4, 4], [1, 4]], "shape_type": "polygon"},
        {"label": "b", "points": [[6, 0], [7, 2]], "shape_type": "rectangle"},
        {"label": "__ignore__", "points": [[0, 7], [1, 7], [1, 6]], "shape_type": "polygon"},
    ]
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"imageHeight": 8, "imageWidth": 8, "imagePath": "x.png", "shapes": shapes}))
    classes = ClassSet(["_background_", "a", "b"], void_ids=[255])
    raw = read_labelme_raw(path, classes)
    assert raw[2, 2] == 1 and raw[1, 6] == 2 and raw[7, 0] == 255 and raw[6, 3] == 0
    assert (raw[1:5, 1:5] == 1).all()  # outline included, as labelme draws it
    shapes.append({"label": "zebra", "points": [[0, 0], [1, 1]], "shape_type": "rectangle"})
    path.write_text(json.dumps({"imageHeight": 8, "imageWidth": 8, "shapes": shapes}))
    with pytest.raises(DataError, match="zebra"):
        read_labelme_raw(path, classes)


def test_info_reports_every_problem(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    ClassSet(["bg", "fg"], void_ids=[255]).save(root / "classes.json")
    for name in ("a", "b", "c", "d"):
        _save(np.zeros((4, 4, 3)), root / "images" / f"{name}.png")
    _save(np.zeros((4, 4)), root / "labels" / "a.png")  # fine
    _save(np.full((4, 4), 7), root / "labels" / "b.png")  # stray value 7
    _save(np.zeros((5, 4)), root / "labels" / "c.png")  # size mismatch
    _save(np.zeros((4, 4)), root / "labels" / "orphan.png")  # no image; d has no label
    report = inspect_dataset(root)
    text = "\n".join(report.problems)
    assert len(report.problems) == 3
    assert "orphan.png" in text and "d.png" in text
    assert "7: 16 pixels" in text and "b.png" in text
    assert "5 x 4" in text and "c.png" in text
    assert report.splits[0].pairs == 3
    assert "problem(s)" in report.to_text()


def test_info_command(tmp_path, capsys):
    from pixelseg.cli import main

    root = tmp_path / "data"
    root.mkdir()
    ClassSet(["bg", "fg"]).save(root / "classes.json")
    _save(np.zeros((4, 4, 3)), root / "images" / "a.png")
    _save(np.ones((4, 4)), root / "labels" / "a.png")
    main(["info", str(root)])
    out = capsys.readouterr().out
    assert "layout:        generic" in out and "no problems found" in out
    assert "fg" in out and "16" in out and "4 x 4 (1)" in out
    _save(np.full((4, 4), 9), root / "labels" / "a.png")
    with pytest.raises(SystemExit) as info:
        main(["info", str(root)])
    assert info.value.code == 1
    assert "9: 16 pixels" in capsys.readouterr().out
