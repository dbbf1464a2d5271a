"""Per-image status: the sidecar file, the API, the automatic move on save, two servers."""

from __future__ import annotations

import json
import threading

import pytest

from pixelseg.data import ClassSet, PixelLabelDatastore
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.labeling.status import STATUS_FILE, StatusStore

from .conftest import WRITE, put_label, sample_label


def put_status(client, name, status):
    return client.put(f"/api/images/{name}/status", json={"status": status}, headers=WRITE)


def statuses(client):
    return {i["name"]: i["status"] for i in client.get("/api/images").json()["images"]}


def test_status_defaults_and_saving_moves_unlabelled_to_in_progress(client, project):
    assert set(statuses(client).values()) == {"unlabelled"}
    assert put_label(client, "img_2.png", sample_label()).json()["status"] == "in_progress"
    assert statuses(client)["img_2.png"] == "in_progress"
    stored = json.loads((project["labels"] / STATUS_FILE).read_text())
    assert stored["images"] == {"img_2.png": "in_progress"}
    # a done image stays done when saved again
    assert put_status(client, "img_2.png", "done").json() == {"name": "img_2.png", "status": "done"}
    version = client.get("/api/images/img_2.png").json()["version"]
    assert put_label(client, "img_2.png", sample_label(), version=version).json()["status"] == "done"


def test_progress_counts_done_and_reviewed(client):
    put_status(client, "img_1.png", "done")
    put_status(client, "img_10.png", "reviewed")
    listing = client.get("/api/images").json()
    assert (listing["done"], listing["labeled"], listing["total"]) == (2, 0, 3)
    assert listing["counts"] == {"unlabelled": 1, "in_progress": 0, "done": 1, "reviewed": 1}
    put_status(client, "img_1.png", "unlabelled")
    assert client.get("/api/images").json()["done"] == 1


@pytest.mark.parametrize(
    ("body", "status_code", "words"),
    [
        ({"status": "finished"}, 400, "finished"),
        ({"status": 3}, 400, "unlabelled, in_progress, done, reviewed"),
        ({"state": "done"}, 400, '{"status": ...}'),
        ("not json", 400, "not valid JSON"),
    ],
)
def test_invalid_status_is_a_json_error(client, project, body, status_code, words):
    if isinstance(body, str):
        response = client.put("/api/images/img_1.png/status", content=body, headers=WRITE)
    else:
        response = client.put("/api/images/img_1.png/status", json=body, headers=WRITE)
    assert response.status_code == status_code
    assert words in response.json()["detail"]
    assert not (project["labels"] / STATUS_FILE).exists()


def test_status_of_unknown_or_bad_image_names(client):
    assert put_status(client, "nope.png", "done").status_code == 404
    assert put_status(client, "..%2Fimg_1.png", "done").status_code in (400, 404)
    assert client.put("/api/images/img_1.png/status", json={"status": "done"}).status_code == 403  # no CSRF header


def test_a_corrupt_status_file_is_an_error_naming_it(client, project):
    client.get("/api/images")  # creates the labels folder
    (project["labels"] / STATUS_FILE).write_text('{"format": "pixelseg-status", "images": {"img_1.png": "ok"}}')
    response = client.get("/api/images")
    assert response.status_code == 422
    assert STATUS_FILE in response.json()["detail"] and "'ok'" in response.json()["detail"]
    (project["labels"] / STATUS_FILE).write_text("{")
    assert "not valid JSON" in client.get("/api/images").json()["detail"]


def test_status_file_is_not_read_as_a_label(client, project):
    put_label(client, "img_1.png", sample_label())
    put_status(client, "img_1.png", "reviewed")
    assert (project["labels"] / STATUS_FILE).is_file()
    assert len(PixelLabelDatastore(project["labels"], ClassSet.load(project["classes"]))) == 1


def test_store_rejects_unknown_status(tmp_path):
    with pytest.raises(ConfigurationError, match="'finished'"):
        StatusStore(tmp_path).set("a.png", "finished")
    (tmp_path / STATUS_FILE).write_text("[]")
    with pytest.raises(DataError, match="expected"):
        StatusStore(tmp_path).read()


def test_concurrent_updates_from_two_stores_are_all_kept(tmp_path):
    """Two servers (two stores on one folder) setting statuses at once lose no update."""
    stores = [StatusStore(tmp_path), StatusStore(tmp_path)]
    names = [f"img_{i}.png" for i in range(40)]

    def work(store, part):
        for name in part:
            store.set(name, "done")

    threads = [threading.Thread(target=work, args=(store, names[k::2])) for k, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert StatusStore(tmp_path).read() == dict.fromkeys(names, "done")


def test_concurrent_updates_from_two_processes_are_all_kept(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_set_many, args=(str(tmp_path), k)) for k in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0]
    expected = {f"p{k}_{i}.png": "reviewed" for k in range(2) for i in range(15)}
    assert StatusStore(tmp_path).read() == expected


def _set_many(folder, k):
    store = StatusStore(folder)
    for i in range(15):
        store.set(f"p{k}_{i}.png", "reviewed")
