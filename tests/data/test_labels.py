"""ClassSet: encoding raw label values exactly, (de)serialisation, palettes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pixelseg.data import VOID, ClassSet
from pixelseg.errors import ConfigurationError, DataError


def test_defaults_and_properties():
    cs = ClassSet(["sky", "road surface"])
    assert cs.num_classes == 2 and len(cs) == 2
    assert cs.names == ["sky", "road surface"]
    assert cs.label_ids == [[0], [1]]
    assert cs.colors.shape == (2, 3) and cs.colors.dtype == np.uint8
    assert len({tuple(c) for c in cs.colors}) == 2 and not (cs.colors == 0).all(axis=1).any()
    assert cs.index("road surface") == 1
    with pytest.raises(ConfigurationError, match="'grass'"):
        cs.index("grass")


def test_same_names_compares_names_and_order_not_label_ids():
    grey = ClassSet(["sky", "road"], label_ids=[[3], [7]], void_ids=[0])
    assert grey.same_names(ClassSet(["sky", "road"], label_ids=[[(128, 128, 128)], [(128, 64, 128)]]))
    assert not grey.same_names(ClassSet(["road", "sky"]))
    assert not grey.same_names(ClassSet(["sky", "road", "car"]))
    assert not grey.same_names(None)


def test_several_ids_per_class_and_void_ids():
    cs = ClassSet(["background", "vehicle"], label_ids=[[0, 5], [7, 8, 300]], void_ids=[65535])
    raw = np.array([[0, 5, 7], [8, 300, 65535]], dtype=np.uint16)
    np.testing.assert_array_equal(cs.encode(raw), [[0, 0, 1], [1, 1, VOID]])


def test_negative_and_int32_ids():
    cs = ClassSet(["a", "b"], void_ids=[-1])
    out = cs.encode(np.array([[0, -1], [1, 1]], dtype=np.int32))
    np.testing.assert_array_equal(out, [[0, VOID], [1, 1]])
    assert out.dtype == np.uint8


def test_rgb_ids_with_several_colours_and_void():
    cs = ClassSet(["a", "b"], label_ids=[[(1, 2, 3), (4, 5, 6)], (7, 8, 9)], void_ids=[(0, 0, 0)])
    raw = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [0, 0, 0]]], dtype=np.uint8)
    np.testing.assert_array_equal(cs.encode(raw), [[0, 0], [1, VOID]])
    assert cs.id_type == "rgb"


def test_grey_class_set_reads_rgb_with_equal_channels_but_not_colours():
    cs = ClassSet(["bg", "cup", "disc"])
    grey = np.array([[0, 1], [2, 2]], dtype=np.uint8)
    np.testing.assert_array_equal(cs.encode(np.repeat(grey[:, :, None], 3, axis=2)), grey)
    colours = np.zeros((2, 2, 3), np.uint8)
    colours[0, 0] = (1, 0, 0)
    with pytest.raises(DataError, match="holds colours"):
        cs.encode(colours, source="mask.png")


def test_unmapped_values_error_names_source_values_and_counts():
    cs = ClassSet(["a", "b"])
    raw = np.array([[0, 1, 9, 9], [9, 200, 1, 0]], dtype=np.uint8)
    with pytest.raises(DataError) as info:
        cs.encode(raw, source="lbl_007.png")
    message = str(info.value)
    assert message.startswith("lbl_007.png:")
    assert "9: 3 pixels" in message and "200: 1 pixels" in message
    assert message.index("9: 3") < message.index("200: 1")  # most frequent first


def test_rgb_set_rejects_grey_input_and_floats_must_be_integral():
    with pytest.raises(DataError, match="no colour channels"):
        ClassSet(["a"], label_ids=[(1, 2, 3)]).encode(np.zeros((2, 2), np.uint8))
    cs = ClassSet(["a", "b"])
    np.testing.assert_array_equal(cs.encode(np.array([[0.0, 1.0]])), [[0, 1]])
    with pytest.raises(DataError, match="whole numbers"):
        cs.encode(np.array([[0.5, 1.0]]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"names": []}, "empty"),
        ({"names": ["a", "a"]}, "duplicate"),
        ({"names": ["a", "b"], "label_ids": [1, 1]}, "both"),
        ({"names": ["a", "b"], "void_ids": [1]}, "also the label id"),
        ({"names": ["a", "b"], "label_ids": [0, (1, 2, 3)]}, "mix"),
        ({"names": ["a"], "label_ids": [0, 1]}, "one entry per class"),
        ({"names": ["a"], "colors": [(1, 2)]}, "RGB triplet"),
        ({"names": [f"c{i}" for i in range(256)]}, "at most 255"),
    ],
)
def test_bad_definitions_are_configuration_errors(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        ClassSet(**kwargs)


def test_255_classes_allowed():
    assert ClassSet([f"c{i}" for i in range(255)]).num_classes == 255


def test_palette_and_colorize():
    cs = ClassSet(["a", "b"], colors=[(10, 20, 30), "#ff0080"])
    pal = cs.palette()
    assert len(pal) == 768 and pal[:6] == [10, 20, 30, 255, 0, 128] and pal[765:] == [0, 0, 0]
    rgb = cs.colorize(np.array([[0, 1, VOID]], np.uint8))
    np.testing.assert_array_equal(rgb[0], [[10, 20, 30], [255, 0, 128], [0, 0, 0]])


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
@pytest.mark.parametrize(
    "cs",
    [
        ClassSet(["sky blue", "road"], label_ids=[[0, 3], 7], void_ids=[255]),
        ClassSet(["a", "b"], label_ids=[[(1, 2, 3), (4, 5, 6)], (7, 8, 9)], void_ids=[(0, 0, 0)]),
        ClassSet(["x", "y", "z"], label_ids=[[1, 2, 3], 4, 5]),  # a list of 3 grey ids, not RGB
    ],
)
def test_save_load_round_trip(tmp_path, suffix, cs):
    path = cs.save(tmp_path / f"classes{suffix}")
    assert ClassSet.load(path) == cs
    assert ClassSet.from_dict(cs.to_dict()) == cs
    with pytest.raises(FileExistsError, match="classes"):
        cs.save(path)
    cs.save(path, overwrite=True)


def test_load_friendly_forms(tmp_path):
    (tmp_path / "names.txt").write_text("background\ncell\n")
    assert ClassSet.load(tmp_path / "names.txt").names == ["background", "cell"]
    (tmp_path / "c.json").write_text(
        '{"classes": [{"name": "membrane", "id": 0}, {"name": "cell", "id": 255, "color": "#00ff00"}]}'
    )
    cs = ClassSet.load(tmp_path / "c.json")
    assert cs.label_ids == [[0], [255]] and cs.colors[1].tolist() == [0, 255, 0]
    (tmp_path / "rgb.yaml").write_text(
        "names: [a, b]\nlabel_ids: [[255, 0, 0], [[0, 0, 255], [0, 0, 254]]]\nid_type: rgb\n"
    )
    assert ClassSet.load(tmp_path / "rgb.yaml").label_ids == [[(255, 0, 0)], [(0, 0, 255), (0, 0, 254)]]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="bad.json"):
        ClassSet.load(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError):
        ClassSet.load(tmp_path / "missing.json")


def test_equality_and_pickle():
    import pickle

    a = ClassSet(["a", "b"], void_ids=[9])
    assert a == ClassSet(["a", "b"], void_ids=[9])
    assert a != ClassSet(["a", "c"], void_ids=[9])
    assert pickle.loads(pickle.dumps(a)) == a


@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(st.integers(-5, 70000), min_size=1, max_size=12, unique=True),
    data=st.data(),
)
def test_encode_maps_every_declared_id_to_its_class(ids, data):
    """Property: a raw map made only of declared ids encodes to exactly their classes."""
    void, class_ids = ids[0], ids[1:] or [ids[0] + 1]
    if void in class_ids:
        return
    cs = ClassSet([f"c{i}" for i in range(len(class_ids))], label_ids=class_ids, void_ids=[void])
    choice = data.draw(hnp.arrays(np.int64, (5, 7), elements=st.integers(0, len(class_ids))))
    raw = np.where(choice == len(class_ids), void, np.asarray(class_ids)[np.minimum(choice, len(class_ids) - 1)])
    dtype = np.uint16 if raw.min() >= 0 and raw.max() < 65536 else np.int64
    out = cs.encode(raw.astype(dtype))
    np.testing.assert_array_equal(out, np.where(choice == len(class_ids), VOID, choice))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.uint8, (6, 6), elements=st.integers(0, 4)))
def test_colorize_then_encode_round_trips(labels):
    cs = ClassSet(list("abcd"), label_ids=[tuple(c) for c in ClassSet(list("abcd")).colors], void_ids=[(0, 0, 0)])
    labels = np.where(labels == 4, VOID, labels).astype(np.uint8)
    np.testing.assert_array_equal(cs.encode(cs.colorize(labels)), labels)
