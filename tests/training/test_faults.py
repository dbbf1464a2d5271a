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
