"""Evaluation: MATLAB-exact semantic-segmentation metrics, BF score, reports.

Public names:

- :func:`evaluate_semantic_segmentation` -> :class:`SemanticSegmentationMetrics`
  (MATLAB ``evaluateSemanticSegmentation``), streaming over any number of images.
- :class:`ConfusionMatrixAccumulator`: streaming confusion matrix on tensors (any device)
  or numpy arrays, for validation loops; :func:`confusion_matrix` for one label map.
- :func:`bf_score`: boundary F1 score per class of one image.
- metric functions on confusion matrices: :func:`global_accuracy`, :func:`class_accuracy`,
  :func:`class_iou`, :func:`weighted_iou`, :func:`dataset_metrics_from_confusion`.
- :class:`AbsentClassWarning`: a class without a value over the whole data set.
"""

from __future__ import annotations

from pixelseg.evaluation.bfscore import bf_score, bf_threshold
from pixelseg.evaluation.confusion import ConfusionMatrixAccumulator, confusion_matrix
from pixelseg.evaluation.evaluate import AbsentClassWarning, evaluate_semantic_segmentation
from pixelseg.evaluation.metrics import (
    NAN_POLICIES,
    class_accuracy,
    class_iou,
    dataset_metrics_from_confusion,
    global_accuracy,
    weighted_iou,
)
from pixelseg.evaluation.results import METRIC_NAMES, SemanticSegmentationMetrics

__all__ = [
    "evaluate_semantic_segmentation",
    "SemanticSegmentationMetrics",
    "ConfusionMatrixAccumulator",
    "AbsentClassWarning",
    "confusion_matrix",
    "bf_score",
    "bf_threshold",
    "NAN_POLICIES",
    "METRIC_NAMES",
    "class_accuracy",
    "class_iou",
    "dataset_metrics_from_confusion",
    "global_accuracy",
    "weighted_iou",
]
