"""Learning-rate schedules and the sample order of the sampler."""

from __future__ import annotations

import math

import pytest

from pixelseg.training.data import EpochSampler
from pixelseg.training.schedules import LearnRateSchedule


def test_none_and_warmup():
    s = LearnRateSchedule("none", iterations_per_epoch=10, total_iterations=100, warmup_iterations=4)
    assert [s(i) for i in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_piecewise_drops_every_period_in_epochs():
    s = LearnRateSchedule("piecewise", iterations_per_epoch=5, total_iterations=100, drop_factor=0.5, drop_period=2)
    assert [s(i) for i in (0, 9, 10, 19, 20)] == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_poly_and_cosine_after_warmup():
    poly = LearnRateSchedule("poly", 10, 110, warmup_iterations=10, power=0.9)
    assert poly(10) == 1.0
    assert poly(60) == pytest.approx(0.5 ** 0.9)
    assert poly(110) == 0.0
    cosine = LearnRateSchedule("cosine", 10, 100)
    assert cosine(0) == 1.0 and cosine(50) == pytest.approx(0.5) and cosine(100) == pytest.approx(0.0)
    assert cosine(25) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_sampler_modes():
    never = EpochSampler(6, "never")
    assert list(never) == [0, 1, 2, 3, 4, 5]
    once = EpochSampler(6, "once", seed=3)
    first = list(once)
    once.set_epoch(1)
    assert list(once) == first and sorted(first) == list(range(6))
    every = EpochSampler(6, "every-epoch", seed=3)
    orders = []
    for epoch in range(4):
        every.set_epoch(epoch)
        orders.append(list(every))
    assert len({tuple(o) for o in orders}) > 1


def test_sampler_shards_like_distributed_sampler_and_skips():
    full = EpochSampler(5, "once", seed=1)
    order = list(full)
    ranks = [list(EpochSampler(5, "once", seed=1, rank=r, world_size=2)) for r in range(2)]
    assert ranks[0] == order[0::2] and ranks[1] == (order + order[:1])[1::2]
    assert len(EpochSampler(5, "once", rank=1, world_size=2)) == 3
    full.skip = 2
    assert list(full) == order[2:]
    assert list(full) == order  # skipping applies to one pass only


def test_validation_shards_cover_every_sample_once():
    shards = [list(EpochSampler(5, "never", rank=r, world_size=2, pad=False)) for r in range(2)]
    assert shards == [[0, 2, 4], [1, 3]]
    assert [len(EpochSampler(5, "never", rank=r, world_size=2, pad=False)) for r in range(2)] == [3, 2]
