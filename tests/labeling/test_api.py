"""HTTP API of the labeling server: listing, reading, saving, conflicts, path safety."""

from __future__ import annotations

import gzip
import io
import os

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet, PixelLabelDatastore

from .conftest import HEIGHT, WIDTH, WRITE, put_label, sample_label, write_image


def folder_state(folder):
    return sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir())


# ------------------------------------------------------------------ listing and reading
def test_listing_natural_order_only_images_and_labeled_status(client, project):
    listing = client.get("/api/images").json()
    assert [i["name"] for i in listing["images"]] == ["img_1.png", "img_2.png", "img_10.png"]
    assert (listing["labeled"], listing["total"]) == (0, 3)
    assert put_label(client, "img_2.png", sample_label()).status_code == 200
    listing = client.get("/api/images").json()
    assert [i["labeled"] for i in listing["images"]] == [False, True, False]
    assert listing["labeled"] == 1


def test_image_info_and_image_bytes(client, project):
    info = client.get("/api/images/img_1.png").json()
    assert info == {"name": "img_1.png", "width": WIDTH, "height": HEIGHT, "labeled": False, "version": ""}
    response = client.get("/api/images/img_1.png/image")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == (project["images"] / "img_1.png").read_bytes()


def test_exif_rotated_image_is_served_upright_at_the_size_pixelseg_reads(client, project):
    image = Image.new("RGB", (40, 20), (10, 20, 30))  # stored 40 wide, 20 high
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees for display
    image.save(project["images"] / "rotated.jpg", exif=exif.tobytes())
    info = client.get("/api/images/rotated.jpg").json()
    assert (info["width"], info["height"]) == (20, 40)
    served = Image.open(io.BytesIO(client.get("/api/images/rotated.jpg/image").content))
    assert served.format == "PNG" and served.size == (20, 40)


def test_unlabeled_image_reads_as_all_void(client):
    response = client.get("/api/images/img_1.png/label")
    assert response.status_code == 200
    assert response.headers["x-label-version"] == ""
    assert (int(response.headers["x-width"]), int(response.headers["x-height"])) == (WIDTH, HEIGHT)
    label = np.frombuffer(response.content, dtype=np.uint8)
    assert label.size == WIDTH * HEIGHT and set(label.tolist()) == {255}
    assert client.get("/api/images/img_1.png/label?format=png").status_code == 404


# ------------------------------------------------------------------ saving
def test_saved_label_is_an_index_png_that_pixel_label_datastore_reads_back_exactly(client, project):
    label = sample_label()
    response = put_label(client, "img_2.png", label)
    assert response.status_code == 200, response.text
    path = project["labels"] / "img_2.png"
    assert response.json()["version"] == client.get("/api/images/img_2.png").json()["version"] != ""
    png = Image.open(path)
    assert png.mode == "P"
    np.testing.assert_array_equal(np.asarray(png), label)  # indices stored as such, void 255
    palette = np.asarray(png.getpalette()[: 3 * 3]).reshape(3, 3)
    np.testing.assert_array_equal(palette, ClassSet.load(project["classes"]).colors)
    datastore = PixelLabelDatastore(project["labels"], ClassSet.load(project["classes"]))
    assert [f.name for f in datastore.files] == ["img_2.png"]
    np.testing.assert_array_equal(datastore.read(0), label)
    # and the API returns what was saved, in both formats
    raw = client.get("/api/images/img_2.png/label").content
    np.testing.assert_array_equal(np.frombuffer(raw, np.uint8).reshape(HEIGHT, WIDTH), label)
    assert client.get("/api/images/img_2.png/label?format=png").content == path.read_bytes()


def test_gzip_upload_is_accepted(client, project):
    label = sample_label()
    response = client.put(
        "/api/images/img_1.png/label",
        content=gzip.compress(label.tobytes()),
        headers={**WRITE, "X-Label-Version": "", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    np.testing.assert_array_equal(np.asarray(Image.open(project["labels"] / "img_1.png")), label)


def test_images_folder_is_never_written(client, project):
    before = folder_state(project["images"])
    put_label(client, "img_1.png", sample_label())
    client.get("/api/images/img_1.png/superpixels?n_segments=10")
    client.get("/api/images/img_1.png/image")
    assert folder_state(project["images"]) == before
    # the label and the status sidecar (unlabelled -> in_progress); no temp files left
    assert sorted(p.name for p in project["labels"].iterdir()) == [".pixelseg-status.json", "img_1.png"]


def test_labels_folder_equal_to_images_folder_is_refused(project):
    from pixelseg.errors import ConfigurationError
    from pixelseg.labeling.server import create_app

    with pytest.raises(ConfigurationError, match="images folder"):
        create_app(project["images"], project["images"], project["classes"])


def test_values_that_are_no_class_are_refused_and_nothing_is_written(client, project):
    label = sample_label()
    label[0, 0] = 7
    response = put_label(client, "img_1.png", label)
    assert response.status_code == 422
    assert "7 (1 px)" in response.json()["detail"]
    assert not (project["labels"] / "img_1.png").exists()


@pytest.mark.parametrize("size", [WIDTH * HEIGHT - 1, WIDTH * HEIGHT + 5, 0])
def test_wrong_upload_size_is_refused(client, size):
    response = client.put(
        "/api/images/img_1.png/label", content=bytes(size), headers={**WRITE, "X-Label-Version": ""}
    )
    assert response.status_code == 422
    assert f"{WIDTH} x {HEIGHT}" in response.json()["detail"]


def test_gzip_bomb_is_refused(client):
    bomb = gzip.compress(bytes(50 * WIDTH * HEIGHT))
    response = client.put(
        "/api/images/img_1.png/label",
        content=bomb,
        headers={**WRITE, "X-Label-Version": "", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 422


def test_save_needs_the_loaded_version(client):
    response = put_label(client, "img_1.png", sample_label(), version=None)
    assert response.status_code == 428


# ------------------------------------------------------------------ conflicts
def test_two_tabs_saving_from_the_same_version_conflict(client, project):
    first = put_label(client, "img_1.png", sample_label(), version="")
    assert first.status_code == 200
    other = sample_label()
    other[:] = 0
    second = put_label(client, "img_1.png", other, version="")  # loaded before the first save
    assert second.status_code == 409
    assert second.json()["current_version"] == first.json()["version"]
    np.testing.assert_array_equal(np.asarray(Image.open(project["labels"] / "img_1.png")), sample_label())
    # forcing (the user chose "overwrite") replaces it
    forced = client.put(
        "/api/images/img_1.png/label?force=1", content=other.tobytes(), headers=WRITE
    )
    assert forced.status_code == 200
    np.testing.assert_array_equal(np.asarray(Image.open(project["labels"] / "img_1.png")), other)


def test_file_changed_on_disk_by_someone_else_conflicts(client, project):
    version = put_label(client, "img_1.png", sample_label()).json()["version"]
    changed = sample_label()
    changed[0, 0] = 2
    img = Image.fromarray(changed, mode="L")
    img.save(project["labels"] / "img_1.png")  # another tool writes the file
    response = put_label(client, "img_1.png", sample_label(), version=version)
    assert response.status_code == 409
    assert "changed on disk" in response.json()["detail"]
    np.testing.assert_array_equal(np.asarray(Image.open(project["labels"] / "img_1.png")), changed)


def test_file_deleted_on_disk_conflicts(client, project):
    version = put_label(client, "img_1.png", sample_label()).json()["version"]
    (project["labels"] / "img_1.png").unlink()
    response = put_label(client, "img_1.png", sample_label(), version=version)
    assert response.status_code == 409
    assert response.json()["current_version"] == ""


def test_saving_again_from_the_returned_version_succeeds(client):
    version = put_label(client, "img_1.png", sample_label()).json()["version"]
    label = sample_label()
    label[0, :] = 1
    response = put_label(client, "img_1.png", label, version=version)
    assert response.status_code == 200
    assert response.json()["version"] != version


# ------------------------------------------------------------------ path safety
@pytest.mark.parametrize(
    "name",
    [
        "..",
        "..%2F..%2Fclasses.json",
        "%2E%2E%2Fclasses.json",
        "..%5Cclasses.json",
        ".hidden.png",
        "notes.txt",
        "missing.png",
        "%00.png",
        "img_1.png%2F..%2F..%2Fclasses.json",
    ],
)
@pytest.mark.parametrize("suffix", ["", "/image", "/label"])
def test_path_traversal_and_unknown_names_get_400_or_404(client, name, suffix):
    response = client.get(f"/api/images/{name}{suffix}")
    assert response.status_code in (400, 404), (name, suffix, response.status_code)
    assert "void_ids" not in response.text  # the classes file was not served


def test_traversal_in_a_save_writes_nothing_outside(client, project):
    response = client.put(
        "/api/images/..%2Fevil.png/label", content=bytes(10), headers={**WRITE, "X-Label-Version": ""}
    )
    assert response.status_code in (400, 404)
    assert not (project["root"] / "evil.png").exists()


def test_static_files_cannot_escape_the_static_folder(client):
    for path in ("/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2Fserver.py"):
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert "create_app" not in response.text


def test_image_symlink_leading_out_is_not_listed_and_refused(client, project):
    outside = project["root"] / "secret.png"
    write_image(outside)
    os.symlink(outside, project["images"] / "link.png")
    names = [i["name"] for i in client.get("/api/images").json()["images"]]
    assert "link.png" not in names
    assert client.get("/api/images/link.png/image").status_code == 403
    assert client.get("/api/images/link.png").status_code == 403


def test_label_symlink_leading_out_is_neither_read_nor_written(client, project):
    project["labels"].mkdir(exist_ok=True)
    outside = project["root"] / "outside.png"
    Image.fromarray(np.zeros((HEIGHT, WIDTH), np.uint8)).save(outside)
    before = outside.read_bytes()
    os.symlink(outside, project["labels"] / "img_1.png")
    assert client.get("/api/images/img_1.png/label").status_code == 403
    assert put_label(client, "img_1.png", sample_label()).status_code == 403
    assert outside.read_bytes() == before


def test_images_sharing_a_stem_cannot_be_saved(client, project):
    write_image(project["images"] / "img_1.jpg")
    listing = {i["name"]: i for i in client.get("/api/images").json()["images"]}
    assert listing["img_1.jpg"]["duplicate_stem"] and listing["img_1.png"]["duplicate_stem"]
    response = put_label(client, "img_1.png", sample_label())
    assert response.status_code == 400
    assert "stem" in response.json()["detail"]
