"""Mini-batch confusion matrices on the device, for the per-iteration training metrics.

Validation metrics use :class:`pixelseg.evaluation.ConfusionMatrixAccumulator`; the training
history needs one small K x K matrix per iteration without a host-device sync, which
:func:`batch_confusion` computes with ``index_put_`` (deterministic on CUDA too); the
metrics come from :mod:`pixelseg.evaluation.metrics` (MATLAB's definitions).
"""

from __future__ import annotations

import numpy as np
import torch

from pixelseg.conventions import VOID

__all__ = ["batch_confusion", "confusion_metrics"]


def batch_confusion(logits: torch.Tensor, target: torch.Tensor, void: int = VOID) -> torch.Tensor:
    """K*K int64 counts (row-major, rows truth) of argmax(logits) N x K x H x W vs target N x H x W.

    Void and out-of-range truth pixels are not counted. Stays on the device of ``logits``.
    """
    num_classes = logits.shape[1]
    pred = logits.detach().argmax(1)
    valid = (target != void) & (target >= 0) & (target < num_classes)
    index = torch.where(valid, target * num_classes + pred, torch.full_like(target, num_classes * num_classes))
    counts = torch.zeros(num_classes * num_classes + 1, dtype=torch.int64, device=logits.device)
    counts.index_put_((index.reshape(-1),), torch.ones_like(index.reshape(-1)), accumulate=True)
    return counts[:-1]


def confusion_metrics(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global accuracy and mean IoU of each of N x K x K matrices -> two (N,) arrays.

    The definitions of :mod:`pixelseg.evaluation.metrics` (MATLAB's, nan_policy "omit"):
    NaN where nothing is labelled.
    """
    from pixelseg.evaluation.metrics import class_iou, global_accuracy, nan_mean

    return global_accuracy(confusion), nan_mean(class_iou(confusion), "omit")
