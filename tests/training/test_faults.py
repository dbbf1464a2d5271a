"""Bad input and faults: clear errors before training, NaN loss, Ctrl-C, out of memory."""

from __future__ import annotations

import pytest
import torch

from pixelseg.data import ClassSet
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.training import (
    TrainingDivergedError,
    TrainingOptions,
    TrainingOutOfMemoryError,
    load_network,
    train_network,
)

from .conftest import SyntheticSegmentation, TinyNet


def fast(**kwargs) -> TrainingOptions:
    base = dict(max_epochs=2, mini_batch_size=4, initial_learn_rate=0.1, verbose=False, shuffle="never", seed=0)
    base.update(kwargs)
    return TrainingOptions(**base)


def test_class_count_mismatch_names_both_numbers(net, data):
    four = ClassSet(["a", "b", "c", "d"])
    with pytest.raises(ConfigurationError, match=r"data has 4 classes.*network has 3"):
        train_network(data, net, fast(), class_set=four)
    data.class_set = four  # picked up from the dataset too
    with pytest.raises(ConfigurationError, match=r"4 classes.*3"):
        train_network(data, net, fast())
    with pytest.raises(ConfigurationError, match=r"class_weights has 2 entries.*3 classes"):
        train_network(SyntheticSegmentation(4), net, fast(), class_weights=[1.0, 2.0])


def test_label_values_beyond_the_network_are_a_data_error(data):
    with pytest.raises(DataError, match=r"value\(s\) \[2\].*2 classes"):
        train_network(data, TinyNet(num_classes=2), fast())


def test_empty_and_unlabelled_and_numpy_data(net, data):
    with pytest.raises(DataError, match="training data is empty"):
        train_network(SyntheticSegmentation(0), net, fast())
    with pytest.raises(DataError, match="validation data is empty"):
        train_network(data, net, fast(), validation_data=SyntheticSegmentation(0))
    images_only = [data.images[i] for i in range(4)]
    with pytest.raises(DataError, match="validation set needs labels"):
        train_network(data, net, fast(), validation_data=images_only)
    as_numpy = [(img.permute(1, 2, 0).numpy(), lab.numpy()) for img, lab in zip(data.images, data.labels)]
    with pytest.raises(DataError, match=r"as_tensors\(\)"):
        train_network(as_numpy, net, fast())
    with pytest.raises(ConfigurationError, match="4 channels.*in_channels=3"):
        train_network([(torch.rand(4, 8, 8), torch.zeros(8, 8, dtype=torch.long))], net, fast())


def test_options_that_need_validation_data(net, data):
    with pytest.raises(ConfigurationError, match="output_network.*validation_data"):
        train_network(data, net, fast(output_network="best-validation-loss"))
    with pytest.raises(ConfigurationError, match="validation_patience.*validation_data"):
        train_network(data, net, fast(validation_patience=3))


def test_images_of_different_sizes_in_one_batch(net):
    pairs = [(torch.rand(3, 8, 8), torch.zeros(8, 8, dtype=torch.long)),
             (torch.rand(3, 8, 12), torch.zeros(8, 12, dtype=torch.long))]
    with pytest.raises(DataError, match="share one size.*3x8x8, 3x8x12"):
        train_network(pairs, net, fast(mini_batch_size=2))


def test_nan_loss_stops_saves_last_good_checkpoint_and_resumes(net, tmp_path):
    data = SyntheticSegmentation(16)
    data.images[9, 0, 0, 0] = float("nan")  # in the 3rd mini-batch of 4
    with pytest.raises(TrainingDivergedError) as info:
        train_network(data, net, fast(output_dir=tmp_path))
    error = info.value
    assert error.iteration == 3 and error.epoch == 1
    message = str(error)
    assert "iteration 3" in message and "initial_learn_rate" in message and "last-good.ckpt" in message
    good = tmp_path / "checkpoints" / "last-good.ckpt"
    assert error.checkpoint == good
    restored = load_network(good)
    assert all(torch.isfinite(p).all() for p in restored.network.parameters())
    assert restored.history.iteration.tolist() == [1, 2]
    assert torch.load(good, weights_only=True)["pixelseg"]["history"]["iteration"] == [1, 2]
    data.images[9, 0, 0, 0] = 0.5  # fixed data: resume from the last good state
    resumed = train_network(data, TinyNet(), fast(resume_from=good))
    assert resumed.history.iteration.tolist() == list(range(1, 9))


class InterruptingDataset(SyntheticSegmentation):
    """Raises KeyboardInterrupt (as Ctrl-C would) when sample ``at`` is read, once."""

    at = 10

    def __getitem__(self, i):
        if i == self.at and self.at is not None:
            self.at = None
            raise KeyboardInterrupt
        return super().__getitem__(i)


def test_ctrl_c_writes_a_checkpoint_and_the_run_resumes_exactly(tmp_path):
    options = dict(solver="adam", initial_learn_rate=0.01, shuffle="every-epoch")
    torch.manual_seed(0)
    straight = train_network(SyntheticSegmentation(16), TinyNet(), fast(**options))
    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt) as info:
        train_network(InterruptingDataset(16), TinyNet(), fast(output_dir=tmp_path, **options))
    checkpoint = tmp_path / "checkpoints" / "interrupted.ckpt"
    assert checkpoint.is_file() and "resume_from" in str(info.value)
    resumed = train_network(SyntheticSegmentation(16), TinyNet(), fast(resume_from=checkpoint, **options))
    assert resumed.history.iteration.tolist() == list(range(1, 9))
    for a, b in zip(straight.network.parameters(), resumed.network.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_the_interrupted_checkpoint_and_log_hold_the_history_so_far(tmp_path):
    with pytest.raises(KeyboardInterrupt, match="interrupted at iteration 2"):
        train_network(InterruptingDataset(16), TinyNet(), fast(output_dir=tmp_path))  # sample 10: 3rd batch
    saved = torch.load(tmp_path / "checkpoints" / "interrupted.ckpt", weights_only=True)
    assert saved["global_step"] == 2 and saved["pixelseg"]["history"]["iteration"] == [1, 2]
    assert (tmp_path / "training_log.csv").read_text().count("\n") == 3  # header and two rows


class OutOfMemoryNet(TinyNet):
    def forward(self, x):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_suggests_a_smaller_mini_batch(data):
    with pytest.raises(TrainingOutOfMemoryError, match=r"smaller mini_batch_size \(now 4; try 2\)"):
        train_network(data, OutOfMemoryNet(), fast())


def test_multi_gpu_without_gpus_is_a_configuration_error(net, data):
    if torch.cuda.is_available():
        pytest.skip("GPUs present")
    with pytest.raises(ConfigurationError, match="multi-gpu.*GPU"):
        train_network(data, net, fast(execution_environment="multi-gpu"))
    with pytest.raises(ConfigurationError, match="16-mixed"):
        train_network(data, net, fast(execution_environment="cpu", precision="16-mixed"))


def batch_norm_net():
    """A small U-Net with batch normalisation (its running statistics are what diverged)."""
    from pixelseg.models import create_network

    torch.manual_seed(0)
    return create_network("unet", num_classes=3, encoder_depth=2, num_first_encoder_filters=4)


def test_divergence_keeps_finite_weights_and_statistics_that_give_finite_scores(tmp_path):
    """Learn rate 1e6: last-good.ckpt held weights near 3e16 and running variances of inf, so
    predict wrote all-class-0 maps and resuming gave NaN at once."""
    data = SyntheticSegmentation(8, 16)
    with pytest.raises(TrainingDivergedError) as info:
        train_network(data, batch_norm_net(), fast(solver="sgdm", initial_learn_rate=1e6, max_epochs=3,
                                                   output_dir=tmp_path))
    good = tmp_path / "checkpoints" / "last-good.ckpt"
    assert info.value.checkpoint == good and "last good weights" in str(info.value)
    saved = torch.load(good, weights_only=True)["state_dict"]
    assert all(torch.isfinite(v).all() for v in saved.values() if v.is_floating_point())
    restored = load_network(good)  # refuses non-finite tensors
    with torch.inference_mode():
        assert torch.isfinite(restored.network(data.images[:4])).all()
    resumed = train_network(data, batch_norm_net(), fast(solver="sgdm", initial_learn_rate=1e-3, max_epochs=4,
                                                         resume_from=good))
    assert resumed.history.loss.notna().all() and resumed.history.iteration.max() == 8


def test_a_network_with_non_finite_tensors_is_refused_when_loaded_resumed_or_run(tmp_path, data):
    from pixelseg.checkpoint import TrainedNetwork
    from pixelseg.inference import semanticseg

    net = batch_norm_net()
    name, running_var = next((n, b) for n, b in net.named_buffers() if n.endswith("running_var"))
    running_var[0] = float("inf")
    path = TrainedNetwork(net).save(tmp_path / "bad.ckpt")
    with pytest.raises(DataError, match=rf"bad\.ckpt: the network's tensor '{name}' holds 1 non-finite"):
        load_network(path)
    with pytest.raises(DataError, match=f"'{name}'"):
        semanticseg(torch.rand(3, 16, 16), net)
    run = tmp_path / "run"
    train_network(data, batch_norm_net(), fast(max_epochs=1, output_dir=run))
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    checkpoint["state_dict"][f"network.{name}"][0] = float("nan")
    torch.save(checkpoint, tmp_path / "resume-bad.ckpt")
    with pytest.raises(DataError, match=f"resume_from .*resume-bad.ckpt: the network's tensor '{name}'"):
        train_network(data, batch_norm_net(), fast(resume_from=tmp_path / "resume-bad.ckpt"))


def test_zero_sum_class_weights_are_refused_before_training(net, data):
    """Class weights all zero: the loss was 0 at every step and the run ended with exit 0."""
    with pytest.raises(ConfigurationError, match=r"class_weights sum to 0 \(\[0\.0, 0\.0, 0\.0\]\)"):
        train_network(data, net, fast(), class_weights=[0, 0, 0])


@pytest.mark.parametrize("content", [b"not a checkpoint at all", b""])
def test_a_bad_resume_checkpoint_is_one_sentence_naming_the_file(tmp_path, net, data, content):
    import argparse

    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(content)
    pickled = tmp_path / "pickled.ckpt"
    torch.save({"options": argparse.Namespace(lr=1)}, pickled)  # an object weights_only refuses
    for path, reason in ((bad, "not a readable pixelseg checkpoint"), (pickled, "Python objects besides tensors")):
        with pytest.raises(DataError) as info:
            train_network(data, net, fast(resume_from=path))
        message = str(info.value)
        assert str(path) in message and reason in message
        assert "\n" not in message and "weights_only" not in message
