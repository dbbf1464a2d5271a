"""Fixtures of the labeling tests: a tiny project (images, labels folder, classes.json)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet

HEIGHT, WIDTH = 24, 32
CLASS_NAMES = ["sky", "road", "car"]


def write_image(path, height=HEIGHT, width=WIDTH, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)


@pytest.fixture
def project(tmp_path):
    """tmp_path/{images/img_1.png, img_2.png, img_10.png, notes.txt}, labels/ (absent), classes.json."""
    images = tmp_path / "images"
    images.mkdir()
    for i, name in enumerate(["img_10.png", "img_2.png", "img_1.png"]):
        write_image(images / name, seed=i)
    (images / "notes.txt").write_text("not an image")
    ClassSet(CLASS_NAMES, void_ids=[255]).save(tmp_path / "classes.json")
    return {
        "root": tmp_path,
        "images": images,
        "labels": tmp_path / "labels",
        "classes": tmp_path / "classes.json",
    }


@pytest.fixture
def make_client(project):
    """make_client(**create_app_kwargs) -> TestClient of a fresh app on the project."""
    import warnings

    with warnings.catch_warnings():  # starlette's notice about httpx, not ours
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from pixelseg.labeling.server import create_app

    def make(**kwargs):
        app = create_app(project["images"], project["labels"], project["classes"], **kwargs)
        return TestClient(app)

    return make


@pytest.fixture
def client(make_client):
    return make_client()


WRITE = {"X-Requested-With": "pixelseg"}


def put_label(client, name, label, version="", **extra_headers):
    headers = {**WRITE, **extra_headers}
    if version is not None:
        headers["X-Label-Version"] = version
    return client.put(f"/api/images/{name}/label", content=np.ascontiguousarray(label, dtype=np.uint8).tobytes(), headers=headers)


def sample_label():
    label = np.full((HEIGHT, WIDTH), 255, dtype=np.uint8)
    label[2:6, 3:12] = 1
    label[10:, :5] = 2
    label[20:, 20:] = 0
    return label
