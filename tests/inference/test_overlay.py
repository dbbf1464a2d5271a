"""label_overlay: MATLAB labeloverlay blending, void, included labels, colormaps, legend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import default_colormap, label_legend, label_overlay


@pytest.fixture
def image():
    return np.full((2, 3, 3), 100, dtype=np.uint8)


@pytest.fixture
def labels():
    return np.array([[0, 1, 255], [1, 0, 2]], dtype=np.uint8)


CMAP = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)


def test_blend_matches_matlab_formula(image, labels):
    out = label_overlay(image, labels, colormap=CMAP, transparency=0.25)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 3)
    # out = t * image + (1 - t) * colour, rounded
    assert out[0, 0].tolist() == [round(0.25 * 100 + 0.75 * 255), 25, 25]
    assert out[0, 1].tolist() == [25, 216, 25]  # 25 + 191.25 = 216.25
    assert out[1, 2].tolist() == [25, 25, 216]


def test_void_stays_uncoloured(image, labels):
    out = label_overlay(image, labels, colormap=CMAP, transparency=0.0)
    assert out[0, 2].tolist() == [100, 100, 100]
    assert out[0, 0].tolist() == [255, 0, 0]  # transparency 0: opaque colour


def test_transparency_one_is_the_image(image, labels):
    assert np.array_equal(label_overlay(image, labels, CMAP, transparency=1.0), image)


def test_included_labels_only(image, labels):
    out = label_overlay(image, labels, CMAP, transparency=0.0, included_labels=[1])
    assert out[0, 0].tolist() == [100, 100, 100]  # class 0 left out
    assert out[0, 1].tolist() == [0, 255, 0]


def test_class_set_like_colormap(image, labels):
    class FakeClassSet:  # duck-typed like pixelseg.data.ClassSet
        names = ["a", "b", "c"]
        colors = CMAP

    out = label_overlay(image, labels, FakeClassSet(), transparency=0.0)
    assert out[1, 2].tolist() == [0, 0, 255]


def test_float_colormap_and_grey_float_image(labels):
    grey = np.full((2, 3), 0.5, dtype=np.float32)
    out = label_overlay(grey, labels, CMAP.astype(np.float64) / 255, transparency=0.5)
    assert out[0, 2].tolist() == [128, 128, 128]  # 0.5 * 255 = 127.5 rounds to even 128
    assert out[0, 0].tolist() == [191, 64, 64]  # 0.5*127.5 + 0.5*255 = 191.25


def test_default_palette_is_distinct():
    for k in (2, 11, 20, 60, 255):
        colors = default_colormap(k)
        assert colors.shape == (k, 3) and colors.dtype == np.uint8
        assert len({tuple(c) for c in colors.tolist()}) == k
    with pytest.raises(ConfigurationError, match="256"):
        default_colormap(256)


def test_default_palette_used_without_colormap(image, labels):
    out = label_overlay(image, labels, transparency=0.0)
    assert out[0, 0].tolist() == default_colormap(3)[0].tolist()


def test_boolean_mask_colours_true_pixels(image):
    mask = np.array([[True, False, False], [False, False, True]])
    out = label_overlay(image, mask, colormap=np.array([[0, 0, 255]]), transparency=0.0)
    assert out[0, 0].tolist() == [0, 0, 255] and out[0, 1].tolist() == [100, 100, 100]


def test_size_mismatch_is_an_error(image):
    with pytest.raises(DataError, match="2 x 3 but labels are 3 x 3"):
        label_overlay(image, np.zeros((3, 3), np.uint8))


def test_label_without_colour_is_an_error(image, labels):
    with pytest.raises(DataError, match=r"2: 1 px"):
        label_overlay(image, labels, colormap=CMAP[:2])


def test_bad_options(image, labels):
    with pytest.raises(ConfigurationError, match="transparency"):
        label_overlay(image, labels, transparency=1.5)
    with pytest.raises(ConfigurationError, match="included_labels"):
        label_overlay(image, labels, CMAP, included_labels=[7])
    with pytest.raises(ConfigurationError, match="K x 3"):
        label_overlay(image, labels, colormap=np.zeros((3, 4)))
    with pytest.raises(DataError, match="integer"):
        label_overlay(image, labels.astype(np.float32))


def test_legend_lists_names_and_colours():
    fig, ax = plt.subplots()
    try:
        legend = label_legend(ax, ["sky", "road", "car"], colormap=CMAP, included_labels=[0, 2])
        texts = [t.get_text() for t in legend.get_texts()]
        assert texts == ["sky", "car"]
        face = legend.legend_handles[1].get_facecolor()
        assert np.allclose(face[:3], [0, 0, 1])
    finally:
        plt.close(fig)


def test_odd_options_from_a_break_it_session(image, labels):
    """A 300-colour map, included_labels=2 and transparency="a" crashed inside numpy; a
    256-colour map (VOC's) keeps its first 255 colours, 255 staying void."""
    from pixelseg.data.palettes import voc_colormap

    big = np.zeros((300, 3), np.uint8)
    big[:3] = CMAP
    assert np.array_equal(label_overlay(image, labels, big), label_overlay(image, labels, CMAP))
    voc = label_overlay(image, labels, voc_colormap(256))
    assert np.array_equal(voc, label_overlay(image, labels, voc_colormap(256)[:3]))
    assert np.array_equal(label_overlay(image, labels, CMAP, included_labels=2),
                          label_overlay(image, labels, CMAP, included_labels=[2]))
    with pytest.raises(ConfigurationError, match="included_labels must be class indices"):
        label_overlay(image, labels, CMAP, included_labels="sky")
    with pytest.raises(ConfigurationError, match="transparency must be a number"):
        label_overlay(image, labels, transparency="a")
    with pytest.raises(DataError, match="300: 2 px"):
        label_overlay(image, np.where(labels == 0, 300, labels.astype(np.int64)), big)
