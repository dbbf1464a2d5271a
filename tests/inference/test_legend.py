"""Title and legend strips on overlay pictures (``pixelseg predict --overlay``)."""

from __future__ import annotations

import numpy as np
import pytest

from pixelseg.data import ClassSet
from pixelseg.errors import ConfigurationError
from pixelseg.inference import add_overlay_legend, label_overlay

CLASSES = ClassSet(["sky", "road", "car"], colors=[[10, 200, 30], [200, 20, 220], [40, 50, 250]])


def _has_colour(region, color):
    return bool((region == np.asarray(color, np.uint8)).all(axis=-1).any())


def test_legend_shows_the_classes_present_with_their_colours_and_a_title():
    image = np.full((60, 200, 3), 90, np.uint8)
    labels = np.full((60, 200), 255, np.uint8)
    labels[:, :50] = 0
    labels[:, 100:120] = 2  # road (1) does not appear
    overlay = label_overlay(image, labels, colormap=CLASSES)
    out = add_overlay_legend(overlay, labels, CLASSES, title="scene.png")
    assert out.dtype == np.uint8 and out.shape[1] == 200 and out.shape[0] > 60
    rows = np.nonzero((out != overlay[0, 0]).any(axis=(1, 2)))[0]
    # the picture itself is unchanged, between the title strip and the legend strip
    top = next(t for t in range(out.shape[0] - 59) if np.array_equal(out[t:t + 60], overlay))
    assert top > 0 and out.shape[0] - (top + 60) > 0 and rows.size
    title, legend = out[:top], out[top + 60:]
    assert (title < 100).all(axis=-1).any()  # dark text on white
    assert _has_colour(legend, CLASSES.colors[0]) and _has_colour(legend, CLASSES.colors[2])
    assert not _has_colour(legend, CLASSES.colors[1])


def test_without_title_narrow_picture_and_names_only():
    labels = np.zeros((8, 10), np.uint8)
    labels[4:] = 1
    picture = np.zeros((8, 10, 3), np.uint8)
    out = add_overlay_legend(picture, labels, ["a", "b"])
    assert out.shape[1] >= 160  # wide enough for a class name
    assert np.array_equal(out[:8, :10], picture)  # no title strip: the picture is at the top
    out = add_overlay_legend(picture, np.full((8, 10), 255, np.uint8), None, title=None)
    assert out.shape[0] == 8  # nothing to list, no title: no strips


def test_many_classes_wrap_onto_more_rows():
    labels = np.arange(12, dtype=np.uint8).repeat(20).reshape(12, 20)
    names = [f"a long class name {i}" for i in range(12)]
    one = add_overlay_legend(np.zeros((12, 20, 3), np.uint8), np.zeros((12, 20), np.uint8), names)
    many = add_overlay_legend(np.zeros((12, 20, 3), np.uint8), labels, names)
    assert many.shape[0] > one.shape[0] + 2 * (one.shape[0] - 12)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ConfigurationError, match="H x W x 3 uint8"):
        add_overlay_legend(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8))
    with pytest.raises(ConfigurationError, match="label map"):
        add_overlay_legend(np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4), np.uint8))
