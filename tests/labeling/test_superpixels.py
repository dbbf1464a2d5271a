"""SLIC superpixels: the function and the endpoint."""

from __future__ import annotations

import numpy as np
import pytest

from pixelseg.data.transforms import nearest_indices
from pixelseg.errors import ConfigurationError
from pixelseg.labeling.superpixels import superpixels

from .conftest import HEIGHT, WIDTH


def two_colour_image(height=48, width=64):
    image = np.zeros((height, width, 3), np.uint8)
    image[:, width // 2 :] = (250, 250, 250)
    return image


def test_nearest_indices_sample_pixel_centres():
    np.testing.assert_array_equal(nearest_indices(4, 8), [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(nearest_indices(6, 6), np.arange(6))
    np.testing.assert_array_equal(nearest_indices(6, 2), [1, 4])


@pytest.mark.parametrize("max_side", [64, 32])
def test_segments_follow_a_colour_edge_at_full_and_reduced_size(max_side):
    segments = superpixels(two_colour_image(), n_segments=12, compactness=1.0, max_side=max_side)
    assert segments.shape == (48, 64) and segments.dtype == np.uint16
    ids = np.unique(segments)
    np.testing.assert_array_equal(ids, np.arange(ids.size))  # compact ids
    left, right = set(np.unique(segments[:, :32])), set(np.unique(segments[:, 32:]))
    assert not left & right  # no superpixel straddles the edge
    assert 4 <= ids.size <= 30


def test_bad_parameters_are_configuration_errors():
    with pytest.raises(ConfigurationError, match="n_segments"):
        superpixels(two_colour_image(), n_segments=0)
    with pytest.raises(ConfigurationError, match="compactness"):
        superpixels(two_colour_image(), compactness=-1)
    with pytest.raises(ConfigurationError, match="H x W x 3"):
        superpixels(np.zeros((4, 4), np.uint8))


def test_endpoint_returns_a_full_size_uint16_map(client):
    response = client.get("/api/images/img_1.png/superpixels", params={"n_segments": 8, "compactness": 5})
    assert response.status_code == 200
    segments = np.frombuffer(response.content, dtype="<u2").reshape(HEIGHT, WIDTH)
    count = int(response.headers["x-segments"])
    assert set(np.unique(segments).tolist()) == set(range(count))


def test_endpoint_rejects_bad_parameters(client):
    assert client.get("/api/images/img_1.png/superpixels", params={"n_segments": 0}).status_code == 400
    assert client.get("/api/images/img_1.png/superpixels", params={"n_segments": "many"}).status_code == 422
