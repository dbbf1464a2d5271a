"""Class list and class editor of the labeling server; class sets with custom ids."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet, PixelLabelDatastore
from pixelseg.errors import ConfigurationError

from .conftest import CLASS_NAMES, WRITE, put_label, sample_label


def edit(client, classes, version):
    return client.put("/api/classes", json={"version": version, "classes": classes}, headers=WRITE)


def test_class_list(client, project):
    described = client.get("/api/classes").json()
    colors = ClassSet.load(project["classes"]).colors
    assert [c["name"] for c in described["classes"]] == CLASS_NAMES
    assert described["classes"][1]["color"] == "#" + bytes(colors[1].tolist()).hex()
    assert described["version"]


def test_rename_recolour_and_add_are_saved_to_the_classes_file(client, project):
    described = client.get("/api/classes").json()
    classes = [{"name": c["name"], "color": c["color"]} for c in described["classes"]]
    classes[0]["name"] = "sky and clouds"
    classes[1]["color"] = "#102030"
    classes.append({"name": "person", "color": [200, 10, 10]})
    response = edit(client, classes, described["version"])
    assert response.status_code == 200, response.text
    saved = ClassSet.load(project["classes"])
    assert saved.names == ["sky and clouds", "road", "car", "person"]
    assert saved.colors[1].tolist() == [16, 32, 48] and saved.colors[3].tolist() == [200, 10, 10]
    assert saved.label_ids == [[0], [1], [2], [3]] and saved.void_ids == [255]
    assert response.json()["version"] != described["version"]
    assert not [p for p in project["root"].iterdir() if p.name.startswith(".")]  # no temp files
    # the new class can be painted and reads back
    label = sample_label()
    label[0, :4] = 3
    assert put_label(client, "img_1.png", label).status_code == 200
    np.testing.assert_array_equal(PixelLabelDatastore(project["labels"], saved).read(0), label)
    png = Image.open(project["labels"] / "img_1.png")
    assert png.getpalette()[9:12] == [200, 10, 10]


@pytest.mark.parametrize(
    "classes, message",
    [
        ([{"name": "sky", "color": "#000000"}], "cannot remove"),
        ([{"name": n, "color": "#ffffff"} for n in ["a", "b", "b"]], "unique"),
        ([{"name": n, "color": "#ffffff"} for n in ["a", "", "c"]], "empty"),
        ([{"name": n, "color": "red"} for n in ["a", "b", "c"]], "colour"),
        ([{"name": n, "color": [0, 0, 256]} for n in ["a", "b", "c"]], "colour"),
        ([{"name": f"c{i}", "color": "#ffffff"} for i in range(256)], "at most 255"),
    ],
)
def test_bad_class_edits_are_refused_and_the_file_kept(client, project, classes, message):
    before = project["classes"].read_bytes()
    version = client.get("/api/classes").json()["version"]
    response = edit(client, classes, version)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert project["classes"].read_bytes() == before


def test_class_file_changed_on_disk_conflicts(client, project):
    version = client.get("/api/classes").json()["version"]
    ClassSet(["sky", "road", "car", "tree"], void_ids=[255]).save(project["classes"], overwrite=True)
    response = edit(client, [{"name": n, "color": "#123456"} for n in CLASS_NAMES], version)
    assert response.status_code == 409
    assert ClassSet.load(project["classes"]).names == ["sky", "road", "car", "tree"]
    # the app picks up the hand edit
    assert [c["name"] for c in client.get("/api/classes").json()["classes"]][-1] == "tree"


def test_classes_file_without_void_id_is_refused_and_left_untouched(make_client, project):
    ClassSet(CLASS_NAMES).save(project["classes"], overwrite=True)
    before = project["classes"].read_bytes()
    with pytest.raises(ConfigurationError, match=r"void_ids.*\[255\]"):
        make_client()
    assert project["classes"].read_bytes() == before


def test_custom_grey_ids_are_written_as_those_ids_and_read_back_exactly(make_client, project):
    class_set = ClassSet(["sky", "road", "car"], label_ids=[10, 20, [30, 31]], void_ids=[0])
    class_set.save(project["classes"], overwrite=True)
    client = make_client()
    label = sample_label()
    assert put_label(client, "img_1.png", label).status_code == 200
    stored = np.asarray(Image.open(project["labels"] / "img_1.png"))
    assert set(np.unique(stored).tolist()) == {0, 10, 20, 30}
    np.testing.assert_array_equal(PixelLabelDatastore(project["labels"], class_set).read(0), label)
    raw = client.get("/api/images/img_1.png/label").content
    np.testing.assert_array_equal(np.frombuffer(raw, np.uint8).reshape(label.shape), label)


def test_new_class_gets_a_free_id_with_custom_ids(make_client, project):
    ClassSet(["a", "b"], label_ids=[1, 2], void_ids=[0]).save(project["classes"], overwrite=True)
    client = make_client()
    version = client.get("/api/classes").json()["version"]
    classes = [{"name": n, "color": "#112233"} for n in ["a", "b", "c"]]
    assert edit(client, classes, version).status_code == 200
    assert ClassSet.load(project["classes"]).label_ids == [[1], [2], [3]]


def test_rgb_class_sets_are_refused_with_a_clear_error(project):
    from pixelseg.labeling.server import create_app

    spec = {"classes": [{"name": "a", "ids": [[255, 0, 0]]}, {"name": "b", "ids": [[0, 255, 0]]}], "id_type": "rgb"}
    project["classes"].write_text(json.dumps(spec))
    with pytest.raises(ConfigurationError, match="RGB label ids"):
        create_app(project["images"], project["labels"], project["classes"])


def test_missing_classes_file_is_a_clear_error(project):
    from pixelseg.labeling.server import create_app

    with pytest.raises(ConfigurationError, match="does not exist"):
        create_app(project["images"], project["labels"], project["root"] / "nope.json")
