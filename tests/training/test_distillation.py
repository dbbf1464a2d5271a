"""Knowledge distillation: the pixel-wise KL term by hand, the teacher's input scale, training with a teacher."""

from __future__ import annotations

import math

import pytest
import torch

from pixelseg.data import ClassSet
from pixelseg.errors import ConfigurationError
from pixelseg.training import TrainedNetwork, TrainingOptions, load_network, train_network
from pixelseg.training.distillation import DistillationTeacher, PixelwiseDistillationLoss
from pixelseg.workflow.train_config import load_job

from .conftest import VOID, SyntheticSegmentation, TinyNet

CLASSES = ClassSet(["red", "green", "blue"])


def _pixels(*logits):
    """N=1, K x 1 x P logits from P per-pixel logit lists."""
    return torch.tensor(logits, dtype=torch.float32).T.reshape(1, len(logits[0]), 1, len(logits))


def test_kl_term_by_hand_leaves_void_out_and_scales_with_temperature():
    student = _pixels([0.0, 0.0], [5.0, -5.0])
    teacher = _pixels([0.0, math.log(3)], [0.0, 0.0])
    labels = torch.tensor([[[1, VOID]]])  # the second pixel is void: it teaches nothing
    # p_teacher = (1/4, 3/4), p_student = (1/2, 1/2): KL = 1/4 ln(1/2) + 3/4 ln(3/2)
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert float(PixelwiseDistillationLoss(1.0)(student, teacher, labels)) == pytest.approx(expected, abs=1e-6)
    # T = 2: p_teacher = (1, sqrt 3) / (1 + sqrt 3), times T^2 = 4
    q = math.sqrt(3) / (1 + math.sqrt(3))
    expected_t2 = 4 * ((1 - q) * math.log(2 * (1 - q)) + q * math.log(2 * q))
    assert float(PixelwiseDistillationLoss(2.0)(student, teacher, labels)) == pytest.approx(expected_t2, abs=1e-6)
    assert float(PixelwiseDistillationLoss()(teacher, teacher, labels)) == pytest.approx(0.0, abs=1e-7)


def test_all_void_batch_gives_zero_and_a_zero_gradient():
    student = torch.randn(1, 3, 2, 2, requires_grad=True)
    loss = PixelwiseDistillationLoss()(student, torch.randn(1, 3, 2, 2), torch.full((1, 2, 2), VOID))
    loss.backward()
    assert float(loss.detach()) == 0.0 and torch.equal(student.grad, torch.zeros_like(student))


class _SizeRecorder(torch.nn.Module):
    num_classes = 3

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(tuple(x.shape[-2:]))
        return torch.zeros(x.shape[0], 3, *x.shape[-2:])


def test_teacher_sees_the_batch_at_its_scale_and_answers_at_the_students_size():
    recorder = _SizeRecorder()
    teacher = DistillationTeacher(recorder, input_scale=480 / 288)
    scores = teacher.logits(torch.rand(2, 3, 160, 192))
    assert recorder.seen == [(267, 320)] and scores.shape == (2, 3, 160, 192)


def _confident_teacher(tmp_path, favoured: int = 2):
    """A saved TinyNet that predicts class ``favoured`` everywhere, whatever the image."""
    net = TinyNet()
    with torch.no_grad():
        last = net.body[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([-8.0, -8.0, -8.0]))
        last.bias[favoured] = 8.0
    return TrainedNetwork(network=net.eval(), class_set=CLASSES).save(tmp_path / "teacher.pt")


def _options(**kwargs):
    return TrainingOptions(max_epochs=4, mini_batch_size=4, solver="sgdm", initial_learn_rate=0.5, verbose=False,
                           seed=0, **kwargs)


def test_a_heavily_weighted_teacher_overrides_the_labels_and_stays_out_of_the_checkpoint(tmp_path):
    data = SyntheticSegmentation(8, 8, 3, seed=0)
    data.labels[data.labels != VOID] = 0  # every label says class 0; the teacher says class 2
    teacher = _confident_teacher(tmp_path)

    torch.manual_seed(0)
    plain = train_network(data, TinyNet(), _options(), class_set=CLASSES)
    torch.manual_seed(0)
    taught = train_network(data, TinyNet(), _options(distillation_teacher=str(teacher), distillation_weight=20.0,
                                                     output_dir=tmp_path / "run"), class_set=CLASSES)
    with torch.no_grad():
        plain_pred = plain.network(data.images).argmax(1)
        taught_pred = taught.network(data.images).argmax(1)
    assert (plain_pred == 0).float().mean() > 0.9
    assert (taught_pred == 2).float().mean() > 0.9
    # The run's checkpoint holds the student only and loads as one.
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert state and all(key.startswith("network.") for key in state)
    assert type(load_network(tmp_path / "run" / "checkpoints" / "last.ckpt").network) is TinyNet


def test_a_teacher_of_other_classes_or_no_file_is_refused_by_name(tmp_path):
    data = SyntheticSegmentation(4, 8, 3, seed=0)
    teacher = _confident_teacher(tmp_path)
    with pytest.raises(ConfigurationError, match=r"teacher\.pt predicts 3 classes but the network being trained has 4"):
        train_network(SyntheticSegmentation(4, 8, 4, seed=0), TinyNet(num_classes=4),
                      _options(distillation_teacher=str(teacher)))
    with pytest.raises(ConfigurationError, match=r"classes \['red', 'green', 'blue'\] but the training data has "
                                                 r"\['sky', 'road', 'car'\]"):
        train_network(data, TinyNet(), _options(distillation_teacher=str(teacher)),
                      class_set=ClassSet(["sky", "road", "car"]))
    with pytest.raises(ConfigurationError, match=r"takes 3-channel images but the network being trained takes 1"):
        grey = SyntheticSegmentation(4, 8, 3, seed=0)
        grey.images = grey.images[:, :1].contiguous()
        train_network(grey, TinyNet(in_channels=1), _options(distillation_teacher=str(teacher)))
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        train_network(data, TinyNet(), _options(distillation_teacher=str(tmp_path / "nowhere.pt")))
    with pytest.raises(ConfigurationError, match="distillation_weight"):
        _options(distillation_weight=-1)


def test_a_teacher_path_in_a_config_is_relative_to_the_file_and_a_name_stays_a_name(tmp_path):
    folder = tmp_path / "recipes"
    folder.mkdir()
    _confident_teacher(folder)
    config = folder / "train.yaml"
    config.write_text("data: {root: data}\noptions: {distillation_teacher: teacher.pt}\n", encoding="utf-8")
    assert load_job(config).options["distillation_teacher"] == str(folder / "teacher.pt")
    assert load_job(config, ["options.distillation_teacher=camvid"]).options["distillation_teacher"] == "camvid"
