"""Any H x W >= 1 gives logits of the same H x W (pad to the stride, crop back)."""

from __future__ import annotations

import pytest
import torch

from pixelseg.errors import DataError
from pixelseg.models import create_network

from .conftest import TINY_CONFIGS, config_id, fcn_module

K = 3


@pytest.fixture(scope="module", params=TINY_CONFIGS, ids=config_id)
def net(request):
    torch.manual_seed(0)
    name, kwargs = request.param
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: the autouse fixture is per test
        mp.setattr(fcn_module, "FC_CHANNELS", 64)
        return create_network(name, K, **kwargs).eval()


@pytest.mark.parametrize("shape", [(1, 3, 64, 40), (2, 3, 13, 7), (1, 3, 1, 1)])
def test_c06_logits_have_input_size(net, shape):
    with torch.no_grad():
        logits = net(torch.rand(shape))
    assert logits.shape == (shape[0], K, shape[2], shape[3])
    assert logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


def test_c06_odd_size_97x131():
    net = create_network("unet", K, num_first_encoder_filters=2, encoder_depth=4).eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 97, 131)).shape == (1, K, 97, 131)


def test_padding_is_bottom_right_and_cropped():
    """The logits of an image equal the top-left corner of the logits of the image padded
    (after normalisation) with zeros, i.e. with the mean colour, at the bottom and right."""
    torch.manual_seed(0)
    net = create_network("unet", K, num_first_encoder_filters=2, encoder_depth=3).eval()
    x = torch.rand(1, 3, 13, 21)
    mean = net.normalize.mean
    padded = mean.expand(1, 3, 16, 24).clone()
    padded[:, :, :13, :21] = x
    with torch.no_grad():
        assert torch.allclose(net(x), net(padded)[:, :, :13, :21], atol=1e-5)


def test_wrong_input_is_a_clear_error():
    net = create_network("unet", K, num_first_encoder_filters=2, encoder_depth=2).eval()
    with pytest.raises(DataError, match="N x 3 x H x W"):
        net(torch.rand(1, 4, 8, 8))
    with pytest.raises(DataError, match="N x 3 x H x W"):
        net(torch.rand(3, 8, 8))
    with pytest.raises(DataError, match="dtype"):
        net(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def test_training_batch_of_one_tiny_image_is_a_clear_error():
    net = create_network("unet", K, num_first_encoder_filters=2, encoder_depth=2).train()
    with pytest.raises(DataError, match="too small"):
        net(torch.rand(1, 3, 4, 3))
    net(torch.rand(2, 3, 4, 3))  # a batch of two is fine
    net(torch.rand(1, 3, 8, 4))  # and so is a 2 x 1 coarsest map
