"""Class-set dicts and files follow one strict schema: unknown keys and wrong types are
refused, naming the key (issue 19)."""

from __future__ import annotations

import json

import pytest

from pixelseg.data import ClassSet
from pixelseg.errors import ConfigurationError, DataError


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"names": ["a"], "void_idz": [255]}, r"unknown key 'void_idz' .*did you mean 'void_ids'\?"),
        ({"classes": ["a"], "void_idz": [255]}, r"unknown key 'void_idz' .*did you mean 'void_ids'\?"),
        ({"clases": ["a"]}, r"unknown key 'clases' .*did you mean 'classes'\?"),
        ({"classes": [{"name": "a", "colour": [1, 2, 3]}]}, r"unknown key 'colour' in classes\[0\] .*'color'\?"),
        ({"classes": ["a"], "label_ids": [1]}, r"unknown key 'label_ids' in a class set with 'classes'"),
        ({"names": ["a"], "zzz": 1}, r"unknown key 'zzz' in a class set with 'names'; the keys there are names"),
    ],
)
def test_unknown_keys_are_refused_with_the_nearest_valid_key(d, message):
    with pytest.raises(ConfigurationError, match=message):
        ClassSet.from_dict(d)


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"names": ["a"], "void_ids": 255}, r"'void_ids' must be a list \(e.g. \[255\]\), got 255 \(int\)"),
        ({"names": None}, r"'names' must be a list, got None"),
        ({"names": "abc"}, r"'names' must be a list, got 'abc' \(str\)"),
        ({"names": True}, r"'names' must be a list, got True \(bool\)"),
        ({"classes": None}, r"'classes' must be a list, got None"),
        ({"classes": "abc"}, r"'classes' must be a list, got 'abc'"),
        ({"names": ["a"], "label_ids": 3}, r"'label_ids' must be a list, got 3"),
        ({"names": ["a"], "colors": "#ff0000"}, r"'colors' must be a list, got '#ff0000'"),
        ({"names": ["a"], "void_ids": False}, r"'void_ids' must be a list .*got False \(bool\)"),
        ({"names": ["a"], "id_type": 3}, r"'id_type' must be 'grey' or 'rgb', got 3"),
        ({"names": [True, "b"]}, r"names\[0\] is True \(bool\); class names are strings"),
        ({"names": ["a", None]}, r"names\[1\] is None"),
        ({"classes": [{"name": 7}]}, r"classes\[0\].name is 7 \(int\)"),
        ({"classes": [{"name": "a", "id": 1, "ids": [2]}]}, r"classes\[0\] has both 'id' and 'ids'"),
    ],
)
def test_wrong_types_are_refused_naming_the_key(d, message):
    with pytest.raises(ConfigurationError, match=message):
        ClassSet.from_dict(d)


def test_null_optional_entries_and_every_valid_key_still_read():
    assert ClassSet.from_dict({"names": ["a", "b"], "label_ids": None, "colors": None, "void_ids": None,
                               "id_type": None}) == ClassSet(["a", "b"])
    cs = ClassSet(["a", "b"], label_ids=[[1, 2], 3], colors=[(1, 2, 3), (4, 5, 6)], void_ids=[255])
    assert ClassSet.from_dict(cs.to_dict()) == cs
    assert ClassSet.from_dict({"classes": [{"name": "a", "id": 5, "color": "#010203"}, "b"], "void_ids": []}).names == [
        "a", "b"]


def test_files_name_the_file_and_the_key(tmp_path):
    path = tmp_path / "classes.json"
    path.write_text(json.dumps({"names": ["a", "b"], "void_idz": [255]}), encoding="utf-8")
    with pytest.raises(DataError, match=r"classes.json: class set: unknown key 'void_idz'.*'void_ids'"):
        ClassSet.load(path)
    path = tmp_path / "classes.yaml"
    path.write_text("names: abc\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"classes.yaml: class set: 'names' must be a list, got 'abc'"):
        ClassSet.load(path)
    path.write_text("names: [yes, no]\n", encoding="utf-8")  # YAML booleans, not names
    with pytest.raises(DataError, match=r"names\[0\] is True \(bool\).*quote it"):
        ClassSet.load(path)
