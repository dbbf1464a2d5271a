"""Knowledge distillation: train a network to match a trained teacher's class probabilities too.

The student's loss becomes ``task_loss + distillation_weight * T^2 * KL(p_teacher || p_student)``
with both distributions softened by the temperature ``T`` (Hinton, Vinyals and Dean 2015,
"Distilling the knowledge in a neural network"), the divergence taken at every labelled pixel
and averaged: the pixel-wise distillation term of Liu et al. 2019, "Structured knowledge
distillation for semantic segmentation" (CVPR). ``T^2`` keeps the term's gradient of the same
size whatever the temperature.

The teacher runs in eval mode without gradients on the student's own mini-batch (after
augmentation and cropping). ``input_scale`` resizes that batch for the teacher first (bilinear)
and the teacher's scores back to the student's size: a teacher trained at 360 x 480 teaching a
student that trains at 216 x 288 sees objects at its own scale with ``input_scale=480/288``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError

__all__ = ["PixelwiseDistillationLoss", "DistillationTeacher", "load_teacher"]


class PixelwiseDistillationLoss(nn.Module):
    """``T^2 * mean_i KL(softmax(t_i / T) || softmax(s_i / T))`` over the labelled pixels ``i``.

    Args:
        temperature: ``T`` > 0 (1: the plain probabilities).

    Forward: student logits N x K x H x W (float), teacher logits of the same shape, labels
    N x H x W (int64; void 255 pixels are left out, so the padding of a crop teaches nothing).
    Returns a scalar (nats); 0, with a zero gradient, when every pixel is void.
    """

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__()
        if not temperature > 0:
            raise ConfigurationError(f"distillation_temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)

    def forward(self, student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if student.shape != teacher.shape:
            raise ValueError(f"student logits {tuple(student.shape)} and teacher logits {tuple(teacher.shape)} differ")
        t = self.temperature
        log_student = F.log_softmax(student.float() / t, dim=1)
        log_teacher = F.log_softmax(teacher.float() / t, dim=1)
        divergence = F.kl_div(log_student, log_teacher, reduction="none", log_target=True).sum(1)  # N x H x W
        labelled = labels != VOID
        if not bool(labelled.any()):
            return student.sum() * 0.0
        return (t * t) * divergence[labelled].mean()


class DistillationTeacher:
    """A trained network that gives class scores for the student's mini-batches.

    Not an ``nn.Module`` attribute of the training task on purpose: its weights never reach the
    optimizer or the run's checkpoints.

    Args:
        network: the teacher (``nn.Module``, N x C x H x W in [0, 1] -> N x K x H x W); set to eval mode.
        weight: ``distillation_weight`` (>= 0) of the distillation term.
        temperature: ``T`` of :class:`PixelwiseDistillationLoss`.
        input_scale: the teacher sees the batch resized by this factor (> 0; 1: as the student).
    """

    def __init__(self, network: nn.Module, weight: float = 1.0, temperature: float = 1.0,
                 input_scale: float = 1.0) -> None:
        if not input_scale > 0:
            raise ConfigurationError(f"distillation_input_scale must be > 0, got {input_scale}")
        if not weight >= 0:
            raise ConfigurationError(f"distillation_weight must be >= 0, got {weight}")
        self.network = network.eval()
        for parameter in self.network.parameters():
            parameter.requires_grad_(False)
        self.weight = float(weight)
        self.input_scale = float(input_scale)
        self.loss = PixelwiseDistillationLoss(temperature)

    def to(self, device: torch.device | str, memory_format: torch.memory_format = torch.contiguous_format):
        """Move the teacher to ``device`` (and memory format); returns self."""
        self.network.to(device=device, memory_format=memory_format)
        return self

    @torch.no_grad()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Teacher logits N x K x H x W at the size of ``images`` (N x C x H x W, float in [0, 1])."""
        height, width = images.shape[-2:]
        inputs = images
        if self.input_scale != 1.0:
            size = (max(1, round(height * self.input_scale)), max(1, round(width * self.input_scale)))
            inputs = F.interpolate(images, size=size, mode="bilinear", align_corners=False)
        scores = self.network(inputs)
        if scores.shape[-2:] != (height, width):
            scores = F.interpolate(scores, size=(height, width), mode="bilinear", align_corners=False)
        return scores

    def term(self, student_logits: torch.Tensor, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``weight * T^2 * KL`` of the student's logits against the teacher's on ``images``."""
        return self.weight * self.loss(student_logits, self.logits(images), labels)


def load_teacher(options, student: nn.Module, class_set=None) -> DistillationTeacher | None:
    """The teacher of ``options.distillation_teacher`` (a network file or a shipped name), or None.

    Raises:
        FileNotFoundError: no such file and no shipped network of that name.
        ConfigurationError: the teacher predicts another number of classes than the student,
            other class names than the training data's class set, or takes images of another
            number of channels (both named).
    """
    source = options.distillation_teacher
    if source is None:
        return None
    from pixelseg.checkpoint import load_network

    trained = load_network(str(source))
    k_teacher, k_student = int(trained.network.num_classes), int(student.num_classes)
    if k_teacher != k_student:
        raise ConfigurationError(
            f"distillation_teacher {source} predicts {k_teacher} classes but the network being trained has "
            f"{k_student}; the teacher must predict the same classes"
        )
    c_teacher, c_student = getattr(trained.network, "in_channels", None), getattr(student, "in_channels", None)
    if c_teacher is not None and c_student is not None and int(c_teacher) != int(c_student):
        raise ConfigurationError(
            f"distillation_teacher {source} takes {c_teacher}-channel images but the network being trained takes "
            f"{c_student}; the teacher must read the same images"
        )
    if class_set is not None and trained.class_set is not None and not class_set.same_names(trained.class_set):
        raise ConfigurationError(
            f"distillation_teacher {source} has the classes {list(trained.class_set.names)} but the training data has "
            f"{list(class_set.names)}; the teacher must predict the same classes in the same order"
        )
    return DistillationTeacher(trained.network, options.distillation_weight, options.distillation_temperature,
                               options.distillation_input_scale)
