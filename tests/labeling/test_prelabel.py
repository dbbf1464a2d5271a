"""Pre-labeling with a trained network (``pixelseg label --model``)."""

from __future__ import annotations

import numpy as np
import pytest

from pixelseg.data import ClassSet
from pixelseg.errors import ConfigurationError

from .conftest import CLASS_NAMES, HEIGHT, WIDTH, WRITE


def test_prelabel_without_a_model_is_404(client):
    response = client.post("/api/images/img_1.png/prelabel", headers=WRITE)
    assert response.status_code == 404
    assert "--model" in response.json()["detail"]


def test_missing_checkpoint_is_a_clear_error(project):
    from pixelseg.labeling.server import create_app

    with pytest.raises(ConfigurationError, match="checkpoint"):
        create_app(project["images"], project["labels"], project["classes"], model=project["root"] / "none.pt")


@pytest.fixture
def checkpoint(tmp_path):
    """A tiny untrained U-Net saved as a TrainedNetwork for the project's classes."""
    pytest.importorskip("torch")
    import torch

    from pixelseg.checkpoint import TrainedNetwork
    from pixelseg.models import unet

    def save(names):
        torch.manual_seed(0)
        net = unet(num_classes=len(names), encoder_depth=1, num_first_encoder_filters=4).eval()
        path = tmp_path / f"net_{len(names)}_{names[0]}.pt"
        TrainedNetwork(network=net, class_set=ClassSet(names, void_ids=[255])).save(path)
        return path

    return save


def test_prelabel_returns_the_network_prediction_without_saving(make_client, project, checkpoint):
    from pixelseg.checkpoint import load_network
    from pixelseg.data import read_image
    from pixelseg.inference import semanticseg

    path = checkpoint(CLASS_NAMES)
    client = make_client(model=path)
    assert client.get("/api/info").json()["prelabel"] is True
    response = client.post("/api/images/img_1.png/prelabel", headers=WRITE)
    assert response.status_code == 200, response.text
    predicted = np.frombuffer(response.content, np.uint8).reshape(HEIGHT, WIDTH)
    expected = semanticseg(read_image(project["images"] / "img_1.png"), load_network(path), progress=False)
    np.testing.assert_array_equal(predicted, expected)
    assert not project["labels"].exists() or not any(project["labels"].iterdir())


def test_prelabel_with_a_model_of_other_classes_is_refused(make_client, checkpoint):
    client = make_client(model=checkpoint(["cat", "dog"]))
    response = client.post("/api/images/img_1.png/prelabel", headers=WRITE)
    assert response.status_code == 400
    assert "cat" in response.json()["detail"] and "sky" in response.json()["detail"]
