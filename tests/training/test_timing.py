"""time_forward_passes: the estimate that --time-budget and fit_to_max_time plan with."""

import time

import pytest
import torch
from torch import nn

from pixelseg.training.timing import time_forward_passes


class _Sleeper(nn.Module):
    """A network whose passes take known times: ``first`` seconds for the first, ``rest`` after."""

    def __init__(self, first: float, rest: float) -> None:
        super().__init__()
        self.first, self.rest, self.calls, self.modes = first, rest, 0, []

    def forward(self, x):
        self.modes.append(self.training)
        time.sleep(self.first if self.calls == 0 else self.rest)
        self.calls += 1
        return x


def _batches(n):
    return (torch.zeros(1, 3, 4, 4) for _ in range(n))


def test_estimate_scales_the_mean_pass_to_the_total():
    net = _Sleeper(0.05, 0.05)
    seconds = time_forward_passes(net, _batches(10), count=2, total=20)
    assert net.calls == 2  # only the timed passes run
    assert 20 * 0.05 <= seconds < 20 * 0.05 * 1.8


def test_warmup_pass_is_run_but_not_timed():
    net = _Sleeper(0.5, 0.02)
    seconds = time_forward_passes(net, _batches(10), count=2, total=10, warmup=1)
    assert net.calls == 3
    assert seconds < 0.5  # 10 x 0.02 s, not (0.5 + 0.02) / 2 x 10 = 2.6 s
    cold = time_forward_passes(_Sleeper(0.5, 0.02), _batches(10), count=2, total=10)
    assert cold > 2.0


def test_runs_in_eval_mode_and_restores_the_mode():
    net = _Sleeper(0.0, 0.0).train()
    time_forward_passes(net, _batches(3), count=3, total=3)
    assert net.modes == [False, False, False] and net.training
    net.eval()
    time_forward_passes(net, _batches(1), count=1, total=1)
    assert not net.training


@pytest.mark.parametrize("available, warmup", [(0, 0), (1, 1)])
def test_no_timed_pass_gives_zero(available, warmup):
    assert time_forward_passes(_Sleeper(0.0, 0.0), _batches(available), count=2, total=5, warmup=warmup) == 0.0


def test_fewer_inputs_than_count_uses_those_there_are():
    seconds = time_forward_passes(_Sleeper(0.05, 0.05), _batches(1), count=5, total=4)
    assert 4 * 0.05 <= seconds < 4 * 0.05 * 1.8
