"""COCO and Label Studio exports read as pixel labels, on tiny hand-made exports (8 x 8
images): polygons, RLE (COCO's plain and compressed, Label Studio's brush code), the drawing
order, background, missing images, the missing coco extra, detection and the data: block."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import yaml
from PIL import Image

from pixelseg.data.formats import detect_layout
from pixelseg.data.formats.exports import polygon_mask
from pixelseg.data.formats.label_studio import decode_rle, image_names
from pixelseg.data.formats.layouts import open_layout
from pixelseg.data.spec import open_data, parse_data_spec
from pixelseg.errors import DataError
from pixelseg.utils.extras import MissingExtraError
from tests.workflow.own_data import ls_brush_rle

S = 8


def _images(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.fromarray(np.full((S, S, 3), 90, np.uint8)).save(folder / name)


def _labels(ds) -> list[np.ndarray]:
    return [ds[i][1] for i in range(len(ds))]


# --------------------------------------------------------------------------- COCO
SQUARE = [[2, 2, 6, 2, 6, 6, 2, 6]]  # corners (2, 2), (6, 6): rows and columns 2..5
COLUMN_4 = {"counts": [4 * S, S, 3 * S], "size": [S, S]}  # column-major: the whole of column 4


def _coco(root, annotations, categories=({"id": 5, "name": "dog"}, {"id": 3, "name": "cat"})):
    _images(root / "images", "a.png", "b.png")
    images = [{"id": 1, "file_name": "a.png", "height": S, "width": S},
              {"id": 2, "file_name": "b.png", "height": S, "width": S}]
    for k, ann in enumerate(annotations):
        ann.setdefault("id", 100 + k)
        ann.setdefault("image_id", 1)
        ann.setdefault("iscrowd", 0)
    (root / "coco.json").write_text(json.dumps({"images": images, "annotations": annotations,
                                                "categories": list(categories)}))


def _crowd_rle():
    """Compressed RLE of row 7, columns 0 and 1 (pycocotools' string form)."""
    from pycocotools import mask

    bits = np.zeros((S, S), np.uint8, order="F")
    bits[7, 0:2] = 1
    rle = mask.encode(bits)
    return {"size": rle["size"], "counts": rle["counts"].decode()}


def test_coco_polygons_rle_crowd_drawn_in_file_order(tmp_path):
    pytest.importorskip("pycocotools")
    _coco(tmp_path, [{"category_id": 3, "segmentation": SQUARE},
                     {"category_id": 5, "segmentation": COLUMN_4},
                     {"category_id": 3, "segmentation": _crowd_rle(), "iscrowd": 1}])
    ds = open_layout(tmp_path, "coco", annotations="coco.json", images="images")["all"]
    assert ds.class_set.names == ["background", "cat", "dog"]  # by category id, 0 added first
    assert ds.class_set.label_ids == [[0], [3], [5]]
    assert ds.pair_names == ["a", "b"]
    a, b = _labels(ds)
    want = np.zeros((S, S), np.uint8)
    want[2:6, 2:6] = 1  # the cat square
    want[:, 4] = 2  # the dog column, drawn later, over the square
    want[7, 0:2] = 1  # the crowd annotation is drawn too
    np.testing.assert_array_equal(a, want)
    np.testing.assert_array_equal(b, np.zeros((S, S), np.uint8))  # no annotation: background


def test_coco_later_annotation_wins_and_category_0_is_the_background(tmp_path):
    pytest.importorskip("pycocotools")
    _coco(tmp_path, [{"category_id": 5, "segmentation": COLUMN_4}, {"category_id": 3, "segmentation": SQUARE}],
          categories=[{"id": 0, "name": "sea"}, {"id": 3, "name": "cat"}, {"id": 5, "name": "dog"}])
    ds = open_layout(tmp_path, "coco")["all"]  # the one COCO file and the images folder, found
    assert ds.class_set.names == ["sea", "cat", "dog"]
    want = np.zeros((S, S), np.uint8)
    want[:, 4] = 2
    want[2:6, 2:6] = 1  # the square is drawn last
    np.testing.assert_array_equal(_labels(ds)[0], want)


def test_coco_missing_image_names_the_file_and_the_folder(tmp_path):
    pytest.importorskip("pycocotools")
    _coco(tmp_path, [{"category_id": 3, "segmentation": SQUARE}])
    (tmp_path / "images" / "b.png").unlink()
    with pytest.raises(DataError, match=r"coco.json: 1 image\(s\) not found in .*images: b.png"):
        open_layout(tmp_path, "coco")
    with pytest.warns(UserWarning, match="b.png"):
        ds = open_layout(tmp_path, "coco", unpaired="warn")["all"]
    assert ds.pair_names == ["a"]


def test_coco_bad_entries_name_the_annotation(tmp_path):
    pytest.importorskip("pycocotools")
    _coco(tmp_path, [{"id": 7, "category_id": 4, "segmentation": SQUARE}])
    with pytest.raises(DataError, match=r"coco.json: annotation 7 has category_id 4, not in categories"):
        open_layout(tmp_path, "coco")
    _coco(tmp_path, [{"id": 8, "category_id": 3, "segmentation": {"counts": [5, 5], "size": [S, S]}}])
    with pytest.raises(DataError, match=r"annotation 8: RLE counts add up to 10, not 8 x 8 pixels"):
        open_layout(tmp_path, "coco")["all"][0]


def test_coco_without_pycocotools_names_the_extra(tmp_path, monkeypatch, capsys):
    _coco(tmp_path, [{"category_id": 3, "segmentation": SQUARE}])
    monkeypatch.setitem(sys.modules, "pycocotools", None)
    with pytest.raises(MissingExtraError) as info:
        open_layout(tmp_path, "coco")
    assert str(info.value) == (f'{tmp_path / "coco.json"}: reading COCO annotations needs the "coco" extra '
                               '(pycocotools is not installed): pip install "pixelseg[coco]"')
    from pixelseg.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["info", str(tmp_path)])
    assert exit_info.value.code == 2
    assert 'pip install "pixelseg[coco]"' in capsys.readouterr().err


# --------------------------------------------------------------------------- Label Studio
def _bits(*fields) -> list[int]:
    """Bytes of the bit fields ``(value, width)``, most significant bit first, zero-padded."""
    bits = "".join(format(v, f"0{n}b") for v, n in fields)
    bits += "0" * (-len(bits) % 8)
    return [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]


def test_label_studio_rle_runs_and_literals():
    # 5 values, 8-bit words, run-length sizes 3, 4, 8, 16 bits: a run of 3 x 7, then literals 1, 2
    header = [(5, 32), (7, 5), (2, 4), (3, 4), (7, 4), (15, 4)]
    code = _bits(*header, (1, 1), (0, 2), (2, 3), (7, 8), (0, 1), (0, 2), (1, 3), (1, 8), (2, 8))
    assert decode_rle(code).tolist() == [7, 7, 7, 1, 2]
    with pytest.raises(ValueError, match="ends early"):
        decode_rle(code[:8])


def test_polygon_covers_pixel_centres():
    square = polygon_mask(np.array([[2, 2], [6, 2], [6, 6], [2, 6]]), S, S)
    assert square.sum() == 16 and square[2:6, 2:6].all()
    triangle = polygon_mask(np.array([[1, 1], [4, 1], [1, 4]]), S, S)  # centres on the hypotenuse are outside
    assert sorted(zip(*np.nonzero(triangle))) == [(1, 1), (1, 2), (2, 1)]


def test_image_names_from_label_studio_urls():
    assert image_names("/data/upload/3/1a2b3c4d-my%20photo.jpg") == ["1a2b3c4d-my photo.jpg", "my photo.jpg"]
    assert image_names("/data/local-files/?d=scans/x.png") == ["x.png"]
    assert image_names("s3://bucket/dir/y.tif") == ["y.tif"]


def _region(kind, label, value, rid):
    return {"id": rid, "type": kind, "original_width": S, "original_height": S, "value": {**value, kind: [label]}}


def _label_studio(root):
    _images(root / "pictures", "a.png")
    _images(root / "pictures" / "sub", "b.png", "c.png", "d.png")
    alpha = np.zeros((S, S), np.uint8)
    alpha[:, 4] = 255
    alpha[0, 0] = 1  # any alpha above 0 is the label's
    square = {"points": [[25, 25], [75, 25], [75, 75], [25, 75]]}  # percent: (2, 2)..(6, 6)
    corner = {"points": [[0, 0], [50, 0], [50, 50], [0, 50]]}  # rows and columns 0..3
    tasks = [
        {"id": 1, "data": {"image": "/data/upload/3/1a2b3c4d-a.png"},
         "annotations": [{"was_cancelled": False, "result": [
             _region("polygonlabels", "leaf", square, "p1"),
             _region("brushlabels", "stem", {"format": "rle", "rle": ls_brush_rle(alpha)}, "b1"),
             {"type": "choices", "value": {"choices": ["ok"]}}]}]},
        {"id": 2, "data": {"image": "/data/local-files/?d=scans/b.png"},
         "annotations": [{"was_cancelled": True, "result": [_region("polygonlabels", "stem", corner, "x")]},
                         {"was_cancelled": False, "result": [_region("polygonlabels", "leaf", corner, "p2")]}]},
        {"id": 3, "data": {"image": "/data/upload/3/c.png"}, "annotations": []},  # not labelled: left out
        {"id": 4, "data": {"image": "d.png"}, "annotations": [{"result": []}]},  # labelled: nothing there
    ]
    (root / "project-1.json").write_text(json.dumps(tasks))


def test_label_studio_polygons_and_brushes(tmp_path):
    _label_studio(tmp_path)
    layout = detect_layout(tmp_path)
    assert layout.name == "label-studio"
    assert layout.options == {"annotations": "project-1.json", "images": "pictures"}
    spec = parse_data_spec(yaml.safe_load(layout.data_block())["data"])
    ds = open_data(spec).split()
    assert ds.class_set.names == ["background", "leaf", "stem"]
    assert ds.pair_names == ["a", "sub/b", "sub/d"]
    a, b, d = _labels(ds)
    np.testing.assert_array_equal(d, np.zeros((S, S), np.uint8))
    want = np.zeros((S, S), np.uint8)
    want[2:6, 2:6] = 1  # the leaf polygon
    want[:, 4] = 2  # the stem brush, drawn later
    want[0, 0] = 2
    np.testing.assert_array_equal(a, want)
    want = np.zeros((S, S), np.uint8)
    want[0:4, 0:4] = 1  # the cancelled annotation is not read
    np.testing.assert_array_equal(b, want)


def test_label_studio_with_a_class_file_and_a_missing_image(tmp_path):
    from pixelseg.data import ClassSet

    _label_studio(tmp_path)
    classes = ClassSet(["soil", "stem", "leaf"], label_ids=[10, 20, 30])
    a = _labels(open_layout(tmp_path, "label-studio", classes)["all"])[0]
    assert a[0, 1] == 0 and a[3, 3] == 2 and a[3, 4] == 1  # by name: unlabelled pixels are class 0
    with pytest.raises(DataError, match=r"labels \['leaf'\] are not in the class set"):
        open_layout(tmp_path, "label-studio", ClassSet(["soil", "stem"]))
    (tmp_path / "pictures" / "a.png").unlink()
    with pytest.raises(DataError, match=r"project-1.json: 1 image\(s\) not found in .*pictures: "
                                        r"/data/upload/3/1a2b3c4d-a.png"):
        open_layout(tmp_path, "label-studio", images="pictures")


def test_coco_detected_and_read_from_its_data_block(tmp_path, capsys):
    pytest.importorskip("pycocotools")
    _coco(tmp_path, [{"category_id": 3, "segmentation": SQUARE}])
    from pixelseg.cli import main

    main(["info", str(tmp_path)])
    report = capsys.readouterr().out
    block = yaml.safe_load(report[report.index("\ndata:") + 1:])["data"]
    assert block == {"root": str(tmp_path.resolve()), "layout": "coco", "annotations": "coco.json", "images": "images"}
    ds = open_data(parse_data_spec(block)).split()
    assert int((ds[0][1] == 1).sum()) == 16
