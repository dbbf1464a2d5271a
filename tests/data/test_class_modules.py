"""The modules ClassSet is built from: ids, encoding, palettes and class files."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from pixelseg.conventions import VOID
from pixelseg.data import ClassSet, LabelSnapWarning
from pixelseg.data.class_files import class_set_dict, load_class_file, parse_class_dict
from pixelseg.data.encoding import LabelEncoder
from pixelseg.data.ids import format_key, id_key, normalise_entry, normalise_id
from pixelseg.data.palettes import default_colors, palette_table, parse_color, voc_colormap
from pixelseg.errors import ConfigurationError, DataError


def test_ids_normalise_pack_and_format():
    assert normalise_id(np.int16(-3), "x") == -3
    assert normalise_id("#ff0080", "x") == (255, 0, 128)
    assert normalise_id(np.array([1, 2, 3]), "x") == (1, 2, 3)
    assert normalise_entry([1, 2], "x") == [1, 2]
    assert normalise_entry((1, 2, 3), "x") == [(1, 2, 3)]
    with pytest.raises(ConfigurationError, match=r"label_ids\[0\] holds True"):
        normalise_id(True, "label_ids[0]")
    with pytest.raises(ConfigurationError, match="empty list"):
        normalise_entry([], "label_ids[1]")
    assert id_key((255, 0, 128)) == 0xFF0080 and id_key(-7) == -7
    assert format_key(0xFF0080, rgb=True) == "(255, 0, 128)"
    assert format_key(300, rgb=False) == "300"


def test_palettes():
    assert voc_colormap(17)[16].tolist() == [0, 64, 0]
    assert default_colors(2).tolist() == voc_colormap(3)[1:].tolist()
    assert parse_color(" #0A0b0C", "c") == (10, 11, 12)
    with pytest.raises(ConfigurationError, match=r"colors\[1\]: \(1, 2\) is not an RGB triplet of 0..255"):
        parse_color((1, 2), "colors[1]")
    colours = np.full((255, 3), 7, dtype=np.uint8)
    table = palette_table(colours)
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert table[254].tolist() == [7, 7, 7] and table[VOID].tolist() == [0, 0, 0]


def test_encoder_on_its_own():
    encoder = LabelEncoder(["a", "b"], [(10,), (20, 21)], (0,), rgb=False)
    assert encoder.keys.tolist() == [0, 10, 20, 21]
    assert encoder.values.tolist() == [VOID, 0, 1, 1]
    raw = np.array([[0, 10, 21]], dtype=np.uint16)
    assert encoder.encode(raw).tolist() == [[VOID, 0, 1]]
    with pytest.raises(DataError, match=r"f.png: 1 label value\(s\) map to no class.*5: 1 pixels"):
        encoder.encode(np.array([[5, 10]]), source="f.png")


def test_snap_warning_points_at_the_caller_of_encode():
    classes = ClassSet(["a", "b"], label_ids=[0, 100])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = classes.encode(np.array([[1, 99]], dtype=np.uint8), tolerance=2)
    assert out.tolist() == [[0, 1]]
    assert len(caught) == 1 and caught[0].category is LabelSnapWarning
    assert caught[0].filename == __file__


def test_pickle_drops_the_lookup_and_reads_old_pickles():
    classes = ClassSet(["a", "b"], label_ids=[(255, 0, 0), (0, 0, 255)], void_ids=[(0, 0, 0)])
    mask = np.zeros((2, 2, 3), dtype=np.uint8)
    mask[0, 0] = (255, 0, 0)
    classes.encode(mask)  # builds the lookup
    copy = pickle.loads(pickle.dumps(classes))
    assert copy == classes and copy._encoder is None
    assert copy.encode(mask).tolist() == [[0, VOID], [VOID, VOID]]
    assert not copy.colors.flags.writeable
    state = classes.__getstate__()
    del state["_encoder"]
    state["_lookup_cache"] = None  # the attribute a ClassSet pickled by an older pixelseg holds
    old = ClassSet.__new__(ClassSet)
    old.__setstate__(state)
    assert old == classes and old.encode(mask).tolist() == [[0, VOID], [VOID, VOID]]
    assert not hasattr(old, "_lookup_cache")


def test_class_files_schemas_round_trip():
    classes = ClassSet(["a", "b"], label_ids=[[1, 2], 3], colors=[(1, 2, 3), "#040506"], void_ids=[255])
    d = class_set_dict(classes)
    assert d == {
        "id_type": "grey",
        "classes": [{"name": "a", "ids": [1, 2], "color": [1, 2, 3]}, {"name": "b", "ids": [3], "color": [4, 5, 6]}],
        "void_ids": [255],
    }
    names, ids, colors, void_ids = parse_class_dict(d)
    assert (names, ids, void_ids) == (["a", "b"], [[1, 2], 3], [255])
    assert ClassSet(names, ids, colors, void_ids) == classes
    # a flat list of three ints is three grey ids unless the file says id_type: rgb
    assert parse_class_dict({"classes": [{"name": "x", "id": [9, 8, 7]}]})[1] == [[9, 8, 7]]
    assert parse_class_dict({"classes": [{"name": "x", "id": [9, 8, 7]}], "id_type": "rgb"})[1] == [(9, 8, 7)]


def test_load_class_file_names_the_file(tmp_path):
    path = tmp_path / "classes.json"
    path.write_text('{"names": ["a", "a"]}', encoding="utf-8")
    with pytest.raises(DataError, match=r"classes.json: ClassSet: duplicate class names \['a'\]"):
        load_class_file(path, ClassSet.from_dict)
    with pytest.raises(DataError, match=r"classes.csv: a class set file must be"):
        (tmp_path / "classes.csv").write_text("a\n", encoding="utf-8")
        load_class_file(tmp_path / "classes.csv", ClassSet.from_dict)
