"""Label encodings (issue 15): palette files as colours, alpha-0 void, thresholds for soft
binary masks, GIF, LZW TIFF, and field cases F12, F13 (F11 is in test_label_checks.py)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from pixelseg.conventions import VOID
from pixelseg.data import ClassSet, PixelLabelDatastore, count_each_label, read_image, read_label, read_label_raw
from pixelseg.errors import ConfigurationError, DataError

LEAF, BLACK, STEM = (48, 112, 32), (0, 0, 0), (176, 112, 32)


def _f12_mask() -> np.ndarray:
    mask = np.zeros((10, 12, 3), np.uint8)
    mask[0:4, 0:6] = LEAF  # 24 pixels
    mask[5:8, 6:9] = STEM  # 9 pixels
    return mask


def _save_palette(mask: np.ndarray, path, order) -> None:
    indices = np.zeros(mask.shape[:2], np.uint8)
    for i, colour in enumerate(order):
        indices[(mask == colour).all(axis=2)] = i
    image = Image.fromarray(indices, "P")
    image.putpalette([c for colour in order for c in colour] + [0] * (768 - 3 * len(order)))
    image.save(path)


def test_f12_palette_png_of_colour_classes_reads_as_its_rgb_twin(tmp_path):
    classes = ClassSet(["leaf", "background", "stem"], label_ids=[LEAF, BLACK, STEM])
    Image.fromarray(_f12_mask()).save(tmp_path / "a_rgb.png")
    _save_palette(_f12_mask(), tmp_path / "b_palette.png", order=[STEM, LEAF, BLACK])
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b_palette.png").convert("RGB")), _f12_mask())
    pxds = PixelLabelDatastore(tmp_path, classes)
    np.testing.assert_array_equal(pxds.read(0), pxds.read(1))
    table = count_each_label(pxds.subset([1]))
    assert table.set_index("name")["pixel_count"].to_dict() == {"leaf": 24, "background": 87, "stem": 9}


def test_palette_indices_stay_indices_for_grey_ids_and_colors_can_be_asked(tmp_path):
    _save_palette(_f12_mask(), tmp_path / "p.png", order=[STEM, LEAF, BLACK])
    grey = ClassSet(["stem", "leaf", "background"])  # ids 0, 1, 2 = the palette indices
    labels = read_label(tmp_path / "p.png", grey)
    assert (labels == 1).sum() == 24 and (labels == 0).sum() == 9
    np.testing.assert_array_equal(read_label_raw(tmp_path / "p.png", palette="colors"), _f12_mask())
    with pytest.raises(ConfigurationError, match="palette must be one of"):
        PixelLabelDatastore(tmp_path, grey, palette="colours")


def _f13_mask(transparent: bool) -> np.ndarray:
    mask = np.full((10, 10, 4), 255, np.uint8)  # white
    if transparent:
        mask[..., 3] = 0
    mask[1:4, 1:4] = (0, 0, 255, 255)  # building, 9 pixels
    mask[6:8, 5:8] = (255, 255, 0, 255)  # car, 6 pixels
    return mask


F13_CLASSES = dict(names=["impervious", "building", "car"], label_ids=[(255, 255, 255), (0, 0, 255), (255, 255, 0)],
                   void_ids=[(255, 0, 0)])


def test_f13_alpha_zero_pixels_are_void_and_opaque_masks_unchanged(tmp_path):
    classes = ClassSet(**F13_CLASSES)
    Image.fromarray(_f13_mask(True), "RGBA").save(tmp_path / "a_clear.png")
    Image.fromarray(_f13_mask(False), "RGBA").save(tmp_path / "b_opaque.png")
    pxds = PixelLabelDatastore(tmp_path, classes)
    clear, opaque = pxds.read(0), pxds.read(1)
    assert (clear == VOID).sum() == 85 and (clear == 1).sum() == 9 and (clear == 2).sum() == 6
    assert [(opaque == k).sum() for k in range(3)] == [85, 9, 6]
    kept = PixelLabelDatastore(tmp_path, classes, alpha_void=False).read(0)
    np.testing.assert_array_equal(kept, opaque)


def test_grey_plus_alpha_and_rgba_tiff_alpha_zero_is_void(tmp_path):
    grey = np.array([[0, 1], [1, 0]], np.uint8)
    alpha = np.array([[255, 0], [255, 255]], np.uint8)
    Image.fromarray(np.dstack([grey, alpha]), "LA").save(tmp_path / "la.png")
    assert read_label(tmp_path / "la.png", ClassSet(["a", "b"])).tolist() == [[0, VOID], [1, 0]]
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = alpha
    tifffile.imwrite(tmp_path / "c.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    out = read_label(tmp_path / "c.tif", ClassSet(["black"], label_ids=[(0, 0, 0)]))
    assert out.tolist() == [[0, VOID], [0, 0]]


def _soft_mask() -> np.ndarray:
    mask = np.zeros((8, 8), np.uint8)
    mask[2:6, 2:6] = 255
    mask[1, 2:6] = 90  # anti-aliased edges
    mask[6, 2:6] = 200
    return mask


def test_threshold_reads_anti_aliased_binary_masks(tmp_path):
    Image.fromarray(_soft_mask()).save(tmp_path / "m.png")
    classes = ClassSet(["background", "object"], label_ids=[0, 255])
    with pytest.raises(DataError, match=r"m.png: 2 label value.*pass threshold=128") as info:
        PixelLabelDatastore(tmp_path, classes).read(0)
    assert "pass tolerance=" not in str(info.value) and "no tolerance would read them right" in str(info.value)
    labels = PixelLabelDatastore(tmp_path, classes, threshold=128).read(0)
    assert (labels == 1).sum() == 20 and (labels == 0).sum() == 44
    flipped = ClassSet(["object", "background"], label_ids=[255, 0])  # the class of the larger id wins
    assert (read_label(tmp_path / "m.png", flipped, threshold=128) == 0).sum() == 20
    with pytest.raises(ConfigurationError, match="two-class grey masks"):
        PixelLabelDatastore(tmp_path, ["a", "b", "c"], threshold=128)
    with pytest.raises(ConfigurationError, match="threshold must be a number"):
        PixelLabelDatastore(tmp_path, classes, threshold="128")


def test_gif_masks_one_frame_and_animated_refused(tmp_path):
    mask = (_soft_mask() == 255).astype(np.uint8)
    image = Image.fromarray(mask, "P")
    image.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    image.save(tmp_path / "21_manual1.gif")
    labels = read_label(tmp_path / "21_manual1.gif", ClassSet(["background", "vessel"], label_ids=[(0, 0, 0),
                                                                                                 (255, 255, 255)]))
    np.testing.assert_array_equal(labels, mask)
    frames = [Image.fromarray(mask * k, "L") for k in (1, 2)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(DataError, match=r"anim.gif: the GIF file holds 2 frames"):
        read_label_raw(tmp_path / "anim.gif")


def test_lzw_tiff_reads_through_pillow_without_imagecodecs(tmp_path):
    rgb = (np.arange(6 * 5 * 3) * 7 % 256).astype(np.uint8).reshape(6, 5, 3)
    Image.fromarray(rgb).save(tmp_path / "image.tif", compression="tiff_lzw")
    np.testing.assert_array_equal(read_image(tmp_path / "image.tif"), rgb)
    mask = _soft_mask() // 255
    Image.fromarray(mask).save(tmp_path / "label.tif", compression="tiff_lzw")
    np.testing.assert_array_equal(read_label(tmp_path / "label.tif", ClassSet(["a", "b"])), mask)
