"""Checks before training and the errors raised when training fails.

Everything that can be checked before the first iteration is checked here, so that a bad
run fails in a second with a sentence naming the offending value rather than deep inside
torch after minutes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError, DataError, PixelsegError

__all__ = [
    "TrainingDivergedError",
    "TrainingOutOfMemoryError",
    "check_dataset",
    "check_class_count",
    "out_of_memory_message",
    "is_out_of_memory",
    "is_resumable_fault",
    "diverged_message",
]


class TrainingDivergedError(PixelsegError, RuntimeError):
    """The loss became NaN or infinite; the last good weights were kept (and saved when possible).

    Attributes: ``value`` (the loss), ``iteration`` and ``epoch`` (1-based), ``checkpoint``
    (path of the last good checkpoint, or None).
    """

    def __init__(self, message: str, value: float | None = None, iteration: int | None = None,
                 epoch: int | None = None, checkpoint=None) -> None:
        super().__init__(message)
        self.value, self.iteration, self.epoch, self.checkpoint = value, iteration, epoch, checkpoint


class TrainingOutOfMemoryError(PixelsegError, MemoryError):
    """The device ran out of memory; the message suggests a smaller ``mini_batch_size``."""


def check_dataset(ds, role: str, in_channels: int | None = None, num_classes: int | None = None) -> tuple[int, int]:
    """Check that ``ds`` is a non-empty dataset of (image 3xHxW float, label HxW int) pairs.

    Only the first sample is read. Returns its (H, W).

    Raises:
        DataError: empty, not pairs (e.g. a validation set without labels), numpy images
            (call ``.as_tensors()``), wrong dtypes or shapes, label values >= num_classes.
        ConfigurationError: image channels differ from the network's ``in_channels``.
    """
    try:
        length = len(ds)
    except TypeError:
        raise DataError(f"the {role} data has no length; pass a map-style torch Dataset (e.g. paired.as_tensors())") from None
    if length == 0:
        raise DataError(f"the {role} data is empty (0 samples); check the folders and file extensions of its datastores")
    sample = ds[0]
    if not isinstance(sample, (tuple, list)) or len(sample) != 2:
        got = type(sample).__name__ + (f" of {len(sample)} items" if isinstance(sample, (tuple, list)) else "")
        raise DataError(
            f"the {role} data must yield (image, label) pairs, got a {got}; "
            f"{'a validation set needs labels: ' if role == 'validation' else ''}use combine(images, labels).as_tensors()"
        )
    image, label = sample
    if isinstance(image, np.ndarray) or isinstance(label, np.ndarray):
        raise DataError(
            f"the {role} data yields numpy arrays (image {getattr(image, 'shape', '?')}); "
            "training needs tensors: use paired.as_tensors() (image 3 x H x W float32 in [0, 1], label H x W int64)"
        )
    if not (torch.is_tensor(image) and image.ndim == 3 and image.is_floating_point()):
        raise DataError(
            f"the {role} images must be C x H x W float tensors in [0, 1], got "
            f"{type(image).__name__} {tuple(getattr(image, 'shape', ()))} {getattr(image, 'dtype', '')}"
        )
    if not (torch.is_tensor(label) and label.ndim == 2 and not label.is_floating_point()):
        raise DataError(
            f"the {role} labels must be H x W integer tensors (class indices, void 255), got "
            f"{type(label).__name__} {tuple(getattr(label, 'shape', ()))} {getattr(label, 'dtype', '')}"
        )
    if tuple(label.shape) != tuple(image.shape[1:]):
        raise DataError(f"the first {role} pair has image size {tuple(image.shape[1:])} but label size {tuple(label.shape)}")
    if in_channels is not None and image.shape[0] != in_channels:
        raise ConfigurationError(
            f"the {role} images have {image.shape[0]} channels but the network takes in_channels={in_channels}"
        )
    if num_classes is not None:
        values = torch.unique(label)
        bad = values[(values != VOID) & ((values < 0) | (values >= num_classes))]
        if bad.numel():
            raise DataError(
                f"the first {role} label map holds class value(s) {bad.tolist()} but the network has "
                f"{num_classes} classes (0..{num_classes - 1}; void is {VOID})"
            )
    return int(image.shape[1]), int(image.shape[2])


def check_class_count(net_classes: int, class_set=None, class_weights=None, source: str = "train_ds.class_set") -> None:
    """ConfigurationError naming both numbers when the data's class count differs from the network's."""
    if class_set is not None and class_set.num_classes != net_classes:
        raise ConfigurationError(
            f"the data has {class_set.num_classes} classes ({source}: {', '.join(class_set.names[:8])}"
            f"{', ...' if class_set.num_classes > 8 else ''}) but the network has {net_classes} "
            f"(net.num_classes); build the network with num_classes={class_set.num_classes}"
        )
    if class_weights is not None:
        count = int(np.asarray(class_weights).reshape(-1).size)
        if count != net_classes:
            raise ConfigurationError(
                f"class_weights has {count} entries but the network has {net_classes} classes (net.num_classes)"
            )


def is_resumable_fault(exc: BaseException) -> bool:
    """True for the faults after which training writes a checkpoint: a NaN loss, Ctrl-C."""
    return isinstance(exc, (TrainingDivergedError, KeyboardInterrupt))


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA/MPS/CPU allocation failures."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text
                                               or "failed to allocate" in text)


def out_of_memory_message(options, device: str) -> str:
    """The advice printed when training runs out of memory."""
    smaller = max(1, options.mini_batch_size // 2)
    tips = [f"a smaller mini_batch_size (now {options.mini_batch_size}; try {smaller})"]
    if options.precision == "32" and device != "cpu":
        tips.append('precision="16-mixed" (or "bf16-mixed")')
    tips.append("smaller training images (Resize or Augmenter(crop_size=...))")
    if options.num_workers > 2:
        tips.append(f"fewer num_workers (now {options.num_workers}) if host memory ran out")
    return f"training ran out of {device} memory; try " + ", ".join(tips)


def diverged_message(value: float, iteration: int, epoch: int, options, checkpoint, restored: bool = True,
                     rolled_back: bool = False) -> str:
    """The advice raised with :class:`TrainingDivergedError`.

    Args:
        value: the loss of the failing iteration (finite when the weights or batch-norm
            statistics were the non-finite part).
        checkpoint: the ``last-good.ckpt`` written, or None.
        restored: whether a state with finite weights, statistics and scores was found.
        rolled_back: whether that state is older than the failing iteration's start.
    """
    if checkpoint:
        older = " (from a few iterations earlier; the optimizer state was reset)" if rolled_back else ""
        kept = f"the last good weights{older} are saved in {checkpoint} (resume with resume_from)"
    elif not restored:
        kept = "no weights with finite values and scores were left to save"
    else:
        kept = "no checkpoint was written (set output_dir to keep one)"
    tips = [f"a smaller initial_learn_rate (now {options.initial_learn_rate:g}; try {options.initial_learn_rate / 10:g})"]
    if options.gradient_threshold is None:
        tips.append("gradient_threshold=1.0")
    if options.warmup_epochs == 0:
        tips.append("warmup_epochs=1")
    if options.precision != "32":
        tips.append('precision="32"')
    tips.append("checking the images for NaN/inf values")
    what = (f"the training loss became {value}" if not math.isfinite(value)
            else f"the network's weights or batch-norm statistics became NaN or infinite (loss {value:g})")
    return f"{what} at iteration {iteration} (epoch {epoch}); {kept}. Try " + ", ".join(tips)
