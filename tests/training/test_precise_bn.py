"""Precise batch norm: the eval-mode collapse of a short run and its cure."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from pixelseg.training import TrainingOptions, train_network
from pixelseg.training.precise_bn import recompute_batch_norm_statistics, sample_batches
from pixelseg.training.train import precise_batch_norm_batches
from tests.training.conftest import SyntheticSegmentation, TinyNet


class TinyBatchNormNet(TinyNet):
    """conv3x3 -> batch norm -> ReLU -> conv1x1, registered name of TinyNet (rebuilt without BN)."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__(num_classes)
        width = self.body[0].out_channels
        self.body = nn.Sequential(self.body[0], nn.BatchNorm2d(width), nn.ReLU(), self.body[2])


def _agreement(net: nn.Module, data: SyntheticSegmentation) -> float:
    """Share of pixels where eval mode predicts what train mode (batch statistics) predicts."""
    with torch.no_grad():
        net.eval()
        evaluated = net(data.images).argmax(1)
        net.train()
        batch = net(data.images).argmax(1)
        net.eval()
    return float((evaluated == batch).float().mean())


def test_recompute_gives_the_plain_mean_and_variance_of_the_data():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    images = torch.rand(6, 3, 5, 5) * 10 + 5  # far from the initial statistics (0, 1)
    used = recompute_batch_norm_statistics(net, [images[:3], (images[3:], None)])
    assert used == 2
    features = net[0](images).transpose(0, 1).reshape(4, -1)
    bn = net[1]
    # two batches of equal size: the cumulative average of the batch means is the data mean
    torch.testing.assert_close(bn.running_mean, features.mean(1), rtol=1e-4, atol=1e-4)
    halves = [f.var(1, unbiased=True) for f in (features[:, :75], features[:, 75:])]
    torch.testing.assert_close(bn.running_var, (halves[0] + halves[1]) / 2, rtol=1e-4, atol=1e-4)
    assert bn.momentum == 0.1 and net.training and bn.training  # modes and momentum put back
    assert recompute_batch_norm_statistics(nn.Conv2d(3, 3, 1), [images]) == 0  # no batch norm: nothing to do
    before = bn.running_mean.clone()
    assert recompute_batch_norm_statistics(net, []) == 0  # no batch: old statistics kept
    torch.testing.assert_close(bn.running_mean, before)


def test_sampling_leaves_the_random_state_of_training_alone():
    data = SyntheticSegmentation(10, 4, 3, seed=0)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    expected = random.random(), np.random.rand(), torch.rand(1)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    batches = list(sample_batches(data, num_batches=3, batch_size=4, seed=5))
    assert [len(b[0]) for b in batches] == [4, 4, 2]  # 10 samples: fewer than 3 x 4
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected


def test_short_run_collapses_in_eval_mode_and_precise_batch_norm_cures_it():
    data = SyntheticSegmentation(16, 16, 3, seed=0)
    nets = {}
    for precise in (0, "auto"):
        torch.manual_seed(0)
        net = TinyBatchNormNet()
        options = TrainingOptions(max_epochs=1, mini_batch_size=8, initial_learn_rate=0.05, verbose=False,
                                  precise_batch_norm=precise)
        nets[precise] = train_network(data, net, options).network
    # two iterations of momentum 0.1: the running statistics are still near (0, 1)
    assert _agreement(nets[0], data) < 0.9
    assert _agreement(nets["auto"], data) > 0.97


def test_auto_is_on_for_short_runs_only():
    assert precise_batch_norm_batches(TrainingOptions(), 10_000) == 16
    assert precise_batch_norm_batches(TrainingOptions(), 10_001) == 0
    assert precise_batch_norm_batches(TrainingOptions(precise_batch_norm=4), 10**6) == 4
    with pytest.raises(Exception, match="precise_batch_norm"):
        TrainingOptions(precise_batch_norm=-1)


def test_a_resumed_run_recalibrates_as_the_uninterrupted_one(tmp_path):
    from pixelseg.models import unet

    from ..fixtures.old_checkpoint_data import options, synthetic
    from .test_resume_state import assert_same_run, other_weights

    def run(folder, net, **kwargs):
        opts = options(output_dir=folder, precise_batch_norm=2, initial_learn_rate=0.1, output_network="last-iteration",
                       validation_patience=None, max_epochs=2, **kwargs)
        return train_network(synthetic(16, seed=0), net, opts, validation_data=synthetic(8, seed=1))

    torch.manual_seed(0)
    straight = run(tmp_path / "a", unet(num_classes=3, encoder_depth=1, num_first_encoder_filters=4))
    middle = tmp_path / "a" / "checkpoints" / "epoch000-iteration000004.ckpt"
    resumed = run(tmp_path / "b", other_weights(unet(num_classes=3, encoder_depth=1, num_first_encoder_filters=4)),
                  resume_from=middle)
    assert_same_run(resumed, straight.history, straight.network.state_dict())
