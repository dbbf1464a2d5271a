"""Field case F14 of ../shared/cases/CASES2.md (layouts and importers)."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet
from pixelseg.data.formats.labelme import read_labelme_raw
from pixelseg.errors import DataError


def _labelme_with_mask(path, mask_png: str):
    shapes = [
        {"label": "road", "points": [[0, 0], [30, 0], [30, 3], [0, 3]], "shape_type": "polygon"},
        {"label": "car", "points": [[10.0, 6.0], [14.0, 9.0]], "shape_type": "mask", "mask": mask_png},
    ]
    path.write_text(json.dumps({"version": "5.8.1", "imageHeight": 16, "imageWidth": 32, "imagePath": "x.png",
                                "shapes": shapes}))  # fmt: skip


def _png64(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_f14_labelme_ai_mask_shape_pasted_into_its_box(tmp_path):
    crop = np.zeros((4, 5), np.uint8)
    crop[1:4, 1:5] = 1
    _labelme_with_mask(tmp_path / "x.json", _png64(crop))
    classes = ClassSet(["_background_", "road", "car"])
    raw = read_labelme_raw(tmp_path / "x.json", classes)
    car = raw == 2
    assert car.sum() == 12 and car[6:10, 10:15].sum() == 12
    assert (raw == 1).sum() == 124


def test_f14_a_mask_shape_that_is_not_a_png_names_the_file(tmp_path):
    _labelme_with_mask(tmp_path / "x.json", base64.b64encode(b"not a png").decode())
    with pytest.raises(DataError, match=r"x.json.*'car'.*base64 PNG"):
        read_labelme_raw(tmp_path / "x.json", ClassSet(["_background_", "road", "car"]))


@pytest.mark.parametrize("shape", [(3, 5), (4, 6), (8, 8)])
def test_f14_a_mask_whose_size_is_not_its_box_names_file_and_sizes(tmp_path, shape):
    _labelme_with_mask(tmp_path / "x.json", _png64(np.ones(shape, np.uint8)))
    expected = rf"x.json: shape 'car': its mask is {shape[0]} x {shape[1]} pixels but its box .* is 4 x 5"
    with pytest.raises(DataError, match=expected):
        read_labelme_raw(tmp_path / "x.json", ClassSet(["_background_", "road", "car"]))
