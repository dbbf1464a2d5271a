"""``semanticseg(..., roi=...)``: pixels outside the region of interest are void (255), with
score 0, in arrays and in written PNGs (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixelseg import ImageDatastore, semanticseg
from pixelseg.errors import ConfigurationError, DataError
from tests.inference.conftest import expected_dominant


def test_a_rectangle_is_x_y_width_height_zero_based(dominant_net, rgb_images):
    image = rgb_images[0]  # 12 x 16
    labels, scores = semanticseg(image, dominant_net, device="cpu", roi=(2, 1, 3, 4), return_scores=True)
    inside = np.zeros((12, 16), bool)
    inside[1:5, 2:5] = True  # rows y..y+h-1, columns x..x+w-1
    assert labels[inside].tolist() == expected_dominant(image)[inside].tolist()
    assert (labels[~inside] == 255).all()
    assert (scores[~inside] == 0).all() and (scores[inside] > 0).all()


def test_a_mask_array_per_image_of_a_list(dominant_net, rgb_images):
    left = np.zeros((12, 16), bool)
    left[:, :8] = True
    out = semanticseg(rgb_images[:2], dominant_net, device="cpu", roi=[left, None])
    assert (out[0][:, 8:] == 255).all() and out[0][:, :8].tolist() == expected_dominant(rgb_images[0])[:, :8].tolist()
    assert out[1].tolist() == expected_dominant(rgb_images[1]).tolist()
    batch = semanticseg(np.stack(rgb_images), dominant_net, device="cpu", roi=left.astype(np.uint8))  # 0/1, for all
    assert (batch[:, :, 8:] == 255).all()


def test_written_pngs_hold_255_outside_and_read_back_as_void(dominant_net, rgb_images, tmp_path):
    (tmp_path / "in").mkdir()
    for i, image in enumerate(rgb_images):
        Image.fromarray(image).save(tmp_path / "in" / f"img_{i}.png")
    mask = np.zeros((12, 16), np.uint8)
    mask[2:10, 3:13] = 255
    Image.fromarray(mask).save(tmp_path / "fov.png")
    pxds = semanticseg(ImageDatastore(tmp_path / "in"), dominant_net, device="cpu", progress=False,
                       write_location=tmp_path / "out", roi=tmp_path / "fov.png")
    for i in range(3):
        written = np.asarray(Image.open(pxds.files[i]))
        assert (written[mask == 0] == 255).all()
        assert written[mask > 0].tolist() == expected_dominant(rgb_images[i])[mask > 0].tolist()
        assert pxds.read(i).tolist() == written.tolist()  # 255 reads back as void
    assert pxds.class_set.void_ids == [255]


def test_roi_errors_name_the_image(dominant_net, rgb_images, tmp_path):
    with pytest.raises(ConfigurationError, match="roi of image 0: .*reaches beyond the image of 16 x 12"):
        semanticseg(rgb_images[0], dominant_net, device="cpu", roi=(1, 1, 16, 12))
    with pytest.raises(ConfigurationError, match="roi: 1 regions given for 2 images"):
        semanticseg(rgb_images[:2], dominant_net, device="cpu", roi=[(0, 0, 2, 2)])
    with pytest.raises(DataError, match="the region mask is 3 x 3 .* but the image is 12 x 16"):
        semanticseg(rgb_images[0], dominant_net, device="cpu", roi=np.ones((3, 3), bool))
