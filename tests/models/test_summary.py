"""summary(net, image_size): layers, output shapes, parameters and FLOPs (hand-computed)."""

from __future__ import annotations

import pytest

from pixelseg.errors import ConfigurationError
from pixelseg.models import create_network, summary


def test_summary_of_a_tiny_unet():
    net = create_network("unet", 5, num_first_encoder_filters=4, encoder_depth=2)
    table = summary(net, (16, 24))
    assert list(table.columns) == ["layer", "type", "output_shape", "parameters", "gflops"]
    first = table[table.layer == "encoder.stages.0.0.0"].iloc[0]
    assert first.type == "Conv2d" and first.output_shape == (1, 4, 16, 24)
    assert first.parameters == 3 * 4 * 9  # no bias (BN follows)
    assert first.gflops == pytest.approx(2 * 16 * 24 * 4 * 3 * 9 / 1e9)  # 2 FLOPs per multiply-add
    last = table.iloc[-1]
    assert last.layer == "classifier" and last.output_shape == (1, 5, 16, 24) and last.parameters == 4 * 5 + 5
    assert table.parameters.sum() == table.attrs["total_parameters"] == sum(p.numel() for p in net.parameters())
    assert table.gflops.sum() == pytest.approx(table.attrs["total_gflops"])
    assert net.training  # mode restored


def test_summary_shows_padded_shapes_and_accepts_channels():
    net = create_network("segnet", 2, encoder_depth=1, in_channels=1)
    table = summary(net, (7, 9, 1))
    assert table[table.layer == "encoder.features.0"].iloc[0].output_shape == (1, 64, 8, 10)


def test_summary_rejects_bad_sizes():
    net = create_network("unet", 2, num_first_encoder_filters=2, encoder_depth=1)
    with pytest.raises(ConfigurationError, match="image_size"):
        summary(net, (0, 4))
    with pytest.raises(ConfigurationError, match="image_size"):
        summary(net, 32)
