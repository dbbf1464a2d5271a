"""channels_last gives the same logits as contiguous tensors; other channel counts work."""

from __future__ import annotations

import pytest
import torch

from pixelseg.models import create_network

from .conftest import TINY_CONFIGS, config_id


@pytest.mark.parametrize("config", TINY_CONFIGS[:1] + TINY_CONFIGS[4:5] + TINY_CONFIGS[7:10], ids=config_id)
def test_channels_last_gives_the_same_logits(config):
    name, kwargs = config
    torch.manual_seed(0)
    net = create_network(name, 3, **kwargs).eval()
    x = torch.rand(2, 3, 40, 24)
    with torch.no_grad():
        expected = net(x)
        net = net.to(memory_format=torch.channels_last)
        got = net(x.contiguous(memory_format=torch.channels_last))
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item())


@pytest.mark.parametrize("config", [TINY_CONFIGS[1], TINY_CONFIGS[7]], ids=config_id)
def test_channels_last_trains(config):
    name, kwargs = config
    net = create_network(name, 3, **kwargs).train().to(memory_format=torch.channels_last)
    x = torch.rand(2, 3, 16, 24).contiguous(memory_format=torch.channels_last)
    loss = torch.nn.functional.cross_entropy(net(x), torch.randint(0, 3, (2, 16, 24)))
    loss.backward()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)


@pytest.mark.parametrize(("config", "in_channels"),
                         [(TINY_CONFIGS[0], 4), (TINY_CONFIGS[4], 1), (TINY_CONFIGS[7], 1), (TINY_CONFIGS[11], 5)],
                         ids=lambda v: config_id(v) if isinstance(v, tuple) else str(v))
def test_other_channel_counts(config, in_channels):
    name, kwargs = config
    net = create_network(name, 2, in_channels=in_channels, **kwargs).eval()
    assert net.in_channels == in_channels and net.normalize.mean.shape == (1, in_channels, 1, 1)
    with torch.no_grad():
        assert net(torch.rand(1, in_channels, 20, 12)).shape == (1, 2, 20, 12)


@pytest.mark.parametrize("config", [TINY_CONFIGS[0], TINY_CONFIGS[2], TINY_CONFIGS[4], TINY_CONFIGS[7], TINY_CONFIGS[9]],
                         ids=config_id)
def test_torch_compile_captures_one_graph_with_the_same_logits(config):
    """fullgraph=True: no graph break anywhere (padding, cropping, max-unpooling included).
    The aot_eager backend traces forward and backward like inductor but runs eagerly, so the
    test needs no C++ compiler."""
    name, kwargs = config
    torch.manual_seed(0)
    net = create_network(name, 3, **kwargs).eval()
    x = torch.rand(1, 3, 37, 29)  # not a multiple of the stride: the padding path is traced
    compiled = torch.compile(net, fullgraph=True, backend="aot_eager", dynamic=False)
    with torch.no_grad():
        assert torch.allclose(compiled(x), net(x), atol=1e-5)
