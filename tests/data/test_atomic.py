"""pixelseg.utils.atomic: atomic writes that never overwrite unasked."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet, read_label_raw
from pixelseg.errors import ConfigurationError
from pixelseg.utils.atomic import atomic_write, save_png


def test_atomic_write_moves_into_place_and_refuses_overwrite(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_write(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".txt"
        tmp.write_text("one")
        assert not target.exists()
    assert target.read_text() == "one"
    with pytest.raises(FileExistsError, match="out.txt"):
        with atomic_write(target):
            pass
    with atomic_write(target, overwrite=True) as tmp:
        tmp.write_text("two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_write_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        with atomic_write(tmp_path / "no" / "such" / "dir.txt"):
            pass


def test_save_png_kinds(tmp_path):
    grey = np.array([[0, 1], [2, 255]], np.uint8)
    save_png(grey, tmp_path / "g.png")
    np.testing.assert_array_equal(read_label_raw(tmp_path / "g.png"), grey)
    deep = np.array([[0, 300]], np.uint16)
    save_png(deep, tmp_path / "d.png")
    np.testing.assert_array_equal(read_label_raw(tmp_path / "d.png"), deep)
    rgb = np.zeros((2, 2, 3), np.uint8) + 7
    save_png(rgb, tmp_path / "c.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "c.png")), rgb)
    with pytest.raises(FileExistsError, match="g.png"):
        save_png(grey, tmp_path / "g.png")
    with pytest.raises(ConfigurationError, match="float"):
        save_png(np.zeros((2, 2)), tmp_path / "f.png")


def test_save_png_with_palette_keeps_indices(tmp_path):
    classes = ClassSet(["a", "b", "c"], colors=[(1, 2, 3), (4, 5, 6), (7, 8, 9)])
    labels = np.array([[0, 1], [2, 255]], np.uint8)
    save_png(labels, tmp_path / "p.png", palette=classes.palette())
    image = Image.open(tmp_path / "p.png")
    assert image.mode == "P"
    np.testing.assert_array_equal(np.asarray(image), labels)
    assert image.getpalette()[:9] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    np.testing.assert_array_equal(np.asarray(image.convert("RGB"))[0, 1], [4, 5, 6])
    with pytest.raises(ConfigurationError, match="palette"):
        save_png(np.zeros((2, 2, 3), np.uint8), tmp_path / "x.png", palette=classes.palette())
