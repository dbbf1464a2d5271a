""""Label next": images ranked by the network's uncertainty (mean normalised softmax entropy)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from pixelseg.labeling.uncertainty import mean_entropy

from .conftest import HEIGHT, WIDTH, WRITE, expected_uncertainty, save_brightness_net


def test_mean_entropy_definition():
    uniform = np.full((4, 2, 3), 0.25)
    assert mean_entropy(uniform) == pytest.approx(1.0)
    certain = np.zeros((4, 2, 3))
    certain[2] = 1
    assert mean_entropy(certain) == 0.0
    half = np.concatenate([uniform[:, :1], certain[:, :1]], axis=1)  # one row each
    assert mean_entropy(half) == pytest.approx(0.5)
    two = np.zeros((2, 1, 1))
    two[:, 0, 0] = [0.9, 0.1]
    assert mean_entropy(two) == pytest.approx(-(0.9 * np.log(0.9) + 0.1 * np.log(0.1)) / np.log(2))
    assert mean_entropy(np.ones((1, 2, 2))) == 0.0
    with pytest.raises(ValueError, match="K x H x W"):
        mean_entropy(np.ones((3, 4)))


@pytest.fixture
def model_client(uncertain_project):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from pixelseg.labeling.server import create_app

    p = uncertain_project
    return TestClient(create_app(p["images"], p["labels"], p["classes"], model=p["model"]))


def test_next_is_the_most_uncertain_image_with_scores(model_client):
    result = model_client.get("/api/next?wait=60").json()
    assert result["complete"] and result["pending"] == 0 and result["failed"] == {}
    assert result["next"] == "grey.png"
    assert [s["name"] for s in result["scores"]] == ["grey.png", "mid.png", "dark.png"]
    values = {s["name"]: s["uncertainty"] for s in result["scores"]}
    assert values["grey.png"] == pytest.approx(1.0, abs=1e-5)
    assert values["mid.png"] == pytest.approx(expected_uncertainty(110), abs=1e-4)
    assert 0.2 < values["mid.png"] < 0.9
    assert values["dark.png"] < 1e-6
    assert "entropy" in result["definition"]


def test_done_and_reviewed_images_are_skipped(model_client):
    model_client.get("/api/next?wait=60")
    model_client.put("/api/images/grey.png/status", json={"status": "done"}, headers=WRITE)
    result = model_client.get("/api/next").json()
    assert result["next"] == "mid.png"
    assert result["scores"][0] == {"name": "grey.png", "uncertainty": pytest.approx(1.0, abs=1e-5), "status": "done"}
    model_client.put("/api/images/mid.png/status", json={"status": "reviewed"}, headers=WRITE)
    model_client.put("/api/images/dark.png/status", json={"status": "done"}, headers=WRITE)
    assert model_client.get("/api/next").json()["next"] is None


def test_ranking_is_cached_and_refreshed_when_the_model_file_changes(model_client, uncertain_project):
    first = model_client.get("/api/next?wait=60").json()
    assert model_client.get("/api/next").json()["scores"] == first["scores"]  # from the cache, no waiting
    # a "fine-tuned" network saved over the old one: gain 0 gives uniform scores everywhere
    model = uncertain_project["model"]
    stat = model.stat()
    save_brightness_net(model, gain=0.0)
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    result = model_client.get("/api/next?wait=60").json()
    assert result["complete"]
    assert {s["name"]: s["uncertainty"] for s in result["scores"]} == pytest.approx(
        {"dark.png": 1.0, "grey.png": 1.0, "mid.png": 1.0}, abs=1e-5)
    assert result["next"] == "dark.png"  # ties in natural order
    # the prelabel endpoint uses the new network too
    predicted = model_client.post("/api/images/dark.png/prelabel?threshold=0.5", headers=WRITE).content
    assert set(np.frombuffer(predicted, np.uint8).tolist()) == {255}  # 1/3 < 0.5 everywhere


def test_new_images_are_ranked_and_unreadable_ones_reported(model_client, uncertain_project):
    model_client.get("/api/next?wait=60")
    (uncertain_project["images"] / "broken.png").write_bytes(b"not a png")
    result = model_client.get("/api/next?wait=60").json()
    assert result["complete"] and "broken.png" in result["failed"]
    assert [s["name"] for s in result["scores"]] == ["grey.png", "mid.png", "dark.png"]


def test_prelabel_threshold_leaves_unsure_pixels_void(model_client):
    def prelabel(name, threshold):
        response = model_client.post(f"/api/images/{name}/prelabel?threshold={threshold}", headers=WRITE)
        assert response.status_code == 200, response.text
        return np.frombuffer(response.content, np.uint8).reshape(HEIGHT, WIDTH)

    # mid (110): class 0 wins with score about 0.94 everywhere
    assert set(prelabel("mid.png", 0.5).ravel().tolist()) == {0}
    assert set(prelabel("mid.png", 0.99).ravel().tolist()) == {255}
    assert set(prelabel("dark.png", 0.99).ravel().tolist()) == {0}
    response = model_client.post("/api/images/mid.png/prelabel?threshold=1.5", headers=WRITE)
    assert response.status_code == 400 and "threshold" in response.json()["detail"]


def test_next_without_a_model_is_404(client):
    response = client.get("/api/next")
    assert response.status_code == 404 and "--model" in response.json()["detail"]


def test_next_with_a_bad_wait_is_400(model_client):
    response = model_client.get("/api/next?wait=100")
    assert response.status_code == 400 and "wait" in response.json()["detail"]


def test_a_model_of_other_classes_is_reported(uncertain_project, tmp_path):
    from fastapi.testclient import TestClient

    from pixelseg.labeling.server import create_app

    p = uncertain_project
    other = save_brightness_net(tmp_path / "other.pt", class_names=["cat", "dog"])
    client = TestClient(create_app(p["images"], p["labels"], p["classes"], model=other))
    response = client.get("/api/next?wait=60")
    assert response.status_code == 400 and "cat" in response.json()["detail"]
