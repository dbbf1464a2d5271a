"""train_network end to end on a tiny network: history, files, checkpoints, resume, selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from pixelseg.checkpoint import HISTORY_COLUMNS
from pixelseg.data import ClassSet
from pixelseg.training import TrainedNetwork, TrainingOptions, load_network, train_network
from pixelseg.training.losses import CrossEntropyLoss
from tests.history import assert_same_history

from .conftest import SyntheticSegmentation, TinyNet


def fast(**kwargs) -> TrainingOptions:
    base = dict(max_epochs=2, mini_batch_size=4, solver="sgdm", initial_learn_rate=0.5, verbose=False,
                validation_frequency=4, shuffle="every-epoch", seed=0)
    base.update(kwargs)
    return TrainingOptions(**base)


def weights(net) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.state_dict().values()]


def same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(weights(a), weights(b)))


def validation_loss(net, ds) -> float:
    loss = CrossEntropyLoss()
    with torch.no_grad():
        values = [loss(net(ds.images[i:i + 4]), ds.labels[i:i + 4]).item() * len(ds.images[i:i + 4])
                  for i in range(0, len(ds), 4)]
    return sum(values) / len(ds)


def test_training_learns_and_records_history(net, data, validation, tmp_path):
    classes = ClassSet(["red", "green", "blue"])
    trained = train_network(data, net, fast(max_epochs=3, output_dir=tmp_path, plots="training-progress"),
                            validation_data=validation, class_set=classes)
    assert isinstance(trained, TrainedNetwork)
    assert trained.class_set == classes and not trained.network.training
    history = trained.history
    assert list(history.columns) == HISTORY_COLUMNS
    times = history.time_elapsed.to_numpy()  # seconds since training started, in row order
    assert (times > 0).all() and (np.diff(times) >= 0).all()
    train = history[history.phase == "train"]
    assert train.iteration.tolist() == list(range(1, 13))  # 16 images / 4 per batch * 3 epochs
    assert train.epoch.tolist() == [1] * 4 + [2] * 4 + [3] * 4
    val = history[history.phase == "validation"]
    assert val.iteration.tolist() == [4, 8, 12]  # every 4 iterations; the last also "at the end"
    assert val.loss.iloc[-1] < val.loss.iloc[0] and val.global_accuracy.iloc[-1] > 0.9
    assert (history.learn_rate == 0.5).all()
    # files: CSV log = history, plot, checkpoints per epoch and last
    logged = pd.read_csv(tmp_path / "training_log.csv")
    pd.testing.assert_frame_equal(logged, history.reset_index(drop=True), check_dtype=False)
    assert (tmp_path / "training_progress.png").stat().st_size > 1000
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())  # keep_checkpoints=2: the last two
    assert names == ["epoch001-iteration000008.ckpt", "epoch002-iteration000012.ckpt", "last.ckpt"]
    assert trained.checkpoint == tmp_path / "checkpoints" / "last.ckpt"


def test_validation_metrics_match_a_direct_evaluation(net, data, validation):
    from pixelseg.evaluation import ConfusionMatrixAccumulator

    trained = train_network(data, net, fast(max_epochs=1), validation_data=validation)
    last = trained.history[trained.history.phase == "validation"].iloc[-1]
    acc = ConfusionMatrixAccumulator(3)
    with torch.no_grad():
        acc.update(trained.network(validation.images).argmax(1), validation.labels)
    expected = acc.compute()
    assert last.global_accuracy == pytest.approx(expected["global_accuracy"])
    assert last.mean_iou == pytest.approx(expected["mean_iou"])
    assert last.loss == pytest.approx(validation_loss(trained.network, validation), rel=1e-5)


def test_save_and_load_network_rebuild_without_user_code(net, data, tmp_path):
    classes = ClassSet(["a", "b", "c"])
    trained = train_network(data, net, fast(max_epochs=1, output_dir=tmp_path), class_set=classes)
    path = trained.save(tmp_path / "net.pt")
    with pytest.raises(FileExistsError):
        trained.save(path)
    for source in (path, tmp_path / "checkpoints" / "last.ckpt"):
        loaded = load_network(source)
        assert type(loaded.network) is TinyNet and not loaded.network.training
        assert loaded.class_set == classes and loaded.options == trained.options
        assert same_weights(loaded.network, trained.network)
        pd.testing.assert_frame_equal(loaded.history, trained.history, check_dtype=False)
        assert loaded.input_size == (16, 16)
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(loaded(x), trained(x))


def test_a_network_in_eval_mode_is_trained_in_training_mode(data):
    # A network from load_network (or from an earlier train_network) is in eval mode; batch
    # norm must still use the statistics of the mini-batch and update its running statistics.
    from pixelseg.models import unet

    runs = []
    for mode in ("train", "eval"):
        torch.manual_seed(0)
        net = unet(num_classes=3, encoder_depth=1, num_first_encoder_filters=4).train(mode == "train")
        runs.append(train_network(data, net, fast(max_epochs=1, deterministic=True)))
    assert runs[0].history.loss.tolist() == runs[1].history.loss.tolist()
    assert same_weights(runs[0].network, runs[1].network)


def test_same_seed_deterministic_gives_the_same_loss_curve(data, validation):
    curves = []
    for _ in range(2):
        torch.manual_seed(0)
        net = TinyNet()
        trained = train_network(data, net, fast(deterministic=True, seed=7), validation_data=validation)
        curves.append(trained.history.loss.tolist())
    assert curves[0] == curves[1]
    torch.manual_seed(0)
    other = train_network(data, TinyNet(), fast(deterministic=True, seed=8), validation_data=validation)
    assert other.history.loss.tolist() != curves[0]  # the seed drives the shuffling


@pytest.mark.parametrize("unit, frequency, resume_name", [
    ("epoch", 1, "epoch000-iteration000004.ckpt"),        # end of epoch 1
    ("iteration", 3, "epoch000-iteration000003.ckpt"),    # mid-epoch
])
def test_resume_continues_at_the_same_epoch_and_step(data, validation, tmp_path, unit, frequency, resume_name):
    options = dict(max_epochs=2, checkpoint_frequency_unit=unit, checkpoint_frequency=frequency,
                   solver="adam", initial_learn_rate=0.01, learn_rate_schedule="cosine")
    torch.manual_seed(0)
    straight = train_network(data, TinyNet(), fast(output_dir=tmp_path / "a", **options), validation_data=validation)
    torch.manual_seed(1)  # different initial weights: the checkpoint must supply everything
    resumed = train_network(data, TinyNet(), fast(output_dir=tmp_path / "b", resume_from=tmp_path / "a" /
                                                  "checkpoints" / resume_name, **options), validation_data=validation)
    for a, b in zip(weights(straight.network), weights(resumed.network)):
        assert torch.allclose(a, b, atol=1e-6)
    assert_same_history(resumed.history, straight.history, check_exact=False, atol=1e-6)


def test_resume_rejects_another_network(data, tmp_path):
    train_network(data, TinyNet(), fast(max_epochs=1, output_dir=tmp_path))
    from pixelseg.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="resume_from"):
        train_network(data, TinyNet(width=4), fast(resume_from=tmp_path / "checkpoints" / "last.ckpt"))


def test_output_network_best_validation_loss(data, validation):
    # A learning rate this large makes the validation loss jump around; the returned network
    # must be the one with the smallest validation loss in the history.
    torch.manual_seed(0)
    trained = train_network(data, TinyNet(), fast(max_epochs=3, initial_learn_rate=8.0, validation_frequency=2,
                                                  output_network="best-validation-loss"), validation_data=validation)
    val = trained.history[trained.history.phase == "validation"]
    assert validation_loss(trained.network, validation) == pytest.approx(val.loss.min(), rel=1e-5)
    assert val.loss.idxmin() != val.index[-1] or val.loss.is_monotonic_decreasing


def test_validation_patience_stops_early(data, validation):
    trained = train_network(data, TinyNet(), fast(max_epochs=10, initial_learn_rate=1e-12, validation_frequency=2,
                                                  validation_patience=2), validation_data=validation)
    val = trained.history[trained.history.phase == "validation"]
    # the first validation sets the best loss; the next two do not improve on it -> stop
    assert val.iteration.tolist() == [2, 4, 6]
    assert trained.history.iteration.max() == 6


def test_gradient_threshold_methods(net):
    from pixelseg.training.module import SegmentationTask

    options = fast(gradient_threshold=0.1)
    for method in ("l2norm", "global-l2norm", "absolute-value"):
        options.gradient_threshold_method = method
        task = SegmentationTask(net, options, CrossEntropyLoss(), lambda i: 1.0, {})
        for p in net.parameters():
            p.grad = torch.full_like(p, 3.0)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        task.configure_gradient_clipping(optimizer)
        grads = [p.grad for p in net.parameters()]
        if method == "l2norm":
            assert all(g.norm().item() == pytest.approx(0.1, rel=1e-4) for g in grads)
        elif method == "global-l2norm":
            assert torch.cat([g.flatten() for g in grads]).norm().item() == pytest.approx(0.1, rel=1e-4)
        else:
            assert all(torch.allclose(g, torch.full_like(g, 0.1)) for g in grads)


def test_class_weights_and_combined_loss_train(net, data):
    trained = train_network(data, net, fast(max_epochs=1, loss={"cross-entropy": 1.0, "dice": 1.0}),
                            class_weights=[1.0, 2.0, 1.0])
    assert trained.history.loss.notna().all()


def test_void_pixels_are_ignored_in_training_metrics(net):
    data = SyntheticSegmentation(8, 16, 3, void_fraction=0.3, seed=2)
    trained = train_network(data, net, fast(max_epochs=1), validation_data=data)
    assert trained.history.notna().all().all()


def test_worker_processes_give_the_same_run(data):
    curves = []
    for workers in (0, 1):
        torch.manual_seed(0)
        trained = train_network(data, TinyNet(), fast(max_epochs=2, num_workers=workers))
        curves.append(trained.history.loss.tolist())
    assert curves[0] == pytest.approx(curves[1], abs=1e-6)


def test_plot_training_progress_standalone(tmp_path):
    from pixelseg.errors import ConfigurationError
    from pixelseg.training import plot_training_progress

    history = pd.DataFrame({"iteration": [1, 2, 2], "epoch": [1, 1, 1], "phase": ["train", "train", "validation"],
                            "loss": [1.0, 0.8, 0.9], "global_accuracy": [0.5, 0.6, 0.55],
                            "mean_iou": [0.2, 0.3, 0.25], "learn_rate": [0.1, 0.1, 0.1]})
    path = plot_training_progress(history, tmp_path / "progress.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(FileExistsError):
        plot_training_progress(history, path)
    with pytest.raises(ConfigurationError, match="mean_iou"):
        plot_training_progress(history.drop(columns="mean_iou"), tmp_path / "other.png")


def test_resume_with_more_epochs_stretches_the_schedule(data, tmp_path):
    options = dict(solver="sgdm", initial_learn_rate=0.1, learn_rate_schedule="poly", poly_power=1.0)
    first = train_network(data, TinyNet(), fast(max_epochs=2, output_dir=tmp_path, **options))
    assert first.history.learn_rate.tolist()[-1] == pytest.approx(0.1 * (1 - 7 / 8))
    longer = train_network(data, TinyNet(), fast(max_epochs=3, resume_from=tmp_path / "checkpoints" / "last.ckpt",
                                                 **options))
    rates = longer.history.learn_rate.tolist()
    assert longer.history.iteration.tolist() == list(range(1, 13))
    assert rates[8:] == pytest.approx([0.1 * (1 - i / 12) for i in range(8, 12)])


def test_sync_batch_norm_is_reverted_to_batch_norm():
    from torch import nn

    from pixelseg.training.train import revert_sync_batch_norm

    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.BatchNorm2d(4), nn.ReLU()))
    net[1][0].running_mean.fill_(0.5)
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(synced[1][0], nn.SyncBatchNorm)
    state = {k: v.clone() for k, v in synced.state_dict().items()}
    reverted = revert_sync_batch_norm(synced)
    assert type(reverted[1][0]) is nn.BatchNorm2d
    assert all(torch.equal(state[k], v) for k, v in reverted.state_dict().items())
