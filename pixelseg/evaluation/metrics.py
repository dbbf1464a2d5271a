"""Segmentation metrics from confusion matrices, with MATLAB's definitions exactly.

Definitions (MATLAB ``evaluateSemanticSegmentation`` / ``semanticSegmentationMetrics``
documentation; Csurka, Larlus, Perronnin, "What is a good evaluation measure for semantic
segmentation?", BMVC 2013). ``CM`` is the K x K confusion matrix, rows truth, columns
prediction, void pixels of the truth already left out:

- ``global_accuracy`` = trace(CM) / sum(CM): correctly classified pixels over all pixels,
  regardless of class. NaN when there are no pixels.
- class ``accuracy`` = CM[c, c] / sum_j CM[c, j] (recall of class c). NaN when the class
  has no true pixels.
- class ``iou`` = CM[c, c] / (sum_j CM[c, j] + sum_i CM[i, c] - CM[c, c]): the Jaccard
  index. Over a data set the intersections and the unions are each summed over images
  before dividing (which is what one accumulated CM gives), not averaged per image. NaN
  when the union is 0 (class absent from both truth and prediction); 0 when the class is
  present in only one of them.
- class ``precision`` = CM[c, c] / sum_i CM[i, c]: the share of pixels predicted as c that
  are c. NaN when nothing is predicted as c. Class ``recall`` is MATLAB's class accuracy.
- class ``dice`` = 2 CM[c, c] / (sum_j CM[c, j] + sum_i CM[i, c]): the Dice coefficient
  (Dice 1945), equal to the F1 score of the class (harmonic mean of precision and recall) and
  to 2 IoU / (1 + IoU). Summed over images like the IoU; NaN when the class is absent from
  both truth and prediction. ``mean_dice`` is its mean over classes with ``nan_policy``.
- ``weighted_iou`` = sum_c (true pixels of c) * iou_c / (all true pixels), NaN terms left
  out (a NaN IoU has weight 0 anyway).
- ``mean_accuracy``, ``mean_iou``: the mean over classes of class accuracy / IoU.
  ``nan_policy="omit"`` (pixelseg's default) averages over the classes that have a value
  (the convention of most Python tools); ``nan_policy="propagate"`` keeps the NaN of a
  class absent from the whole set, as MATLAB does on purpose. Example, a class absent from truth and prediction: truth
  [0, 1, 0, 0], prediction [0, 1, 0, 1], 3 classes: IoU [2/3, 1/2, NaN]; mean IoU 0.5833
  with "omit", NaN with "propagate".

Image metrics apply the same definitions to each image's own confusion matrix.
"""

from __future__ import annotations

import numpy as np

from pixelseg.errors import ConfigurationError

__all__ = [
    "NAN_POLICIES",
    "global_accuracy",
    "class_accuracy",
    "class_iou",
    "weighted_iou",
    "class_precision",
    "class_dice",
    "dice_from_iou",
    "nan_mean",
    "dataset_metrics_from_confusion",
    "check_nan_policy",
]

#: Allowed values of ``nan_policy``: "omit" (mean over classes with a value) and
#: "propagate" (MATLAB: any NaN makes the mean NaN).
NAN_POLICIES = ("omit", "propagate")


def check_nan_policy(nan_policy: str) -> str:
    """Return ``nan_policy`` or raise ConfigurationError naming it."""
    if nan_policy not in NAN_POLICIES:
        raise ConfigurationError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    return nan_policy


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def global_accuracy(cm: np.ndarray) -> np.ndarray:
    """trace / total of a K x K confusion matrix (or of each of N x K x K); NaN when empty."""
    cm = np.asarray(cm)
    return _divide(np.trace(cm, axis1=-2, axis2=-1), cm.sum(axis=(-2, -1)))


def class_accuracy(cm: np.ndarray) -> np.ndarray:
    """(…, K) float64: CM[c, c] / true pixels of c; NaN for a class without true pixels."""
    cm = np.asarray(cm)
    return _divide(np.diagonal(cm, axis1=-2, axis2=-1), cm.sum(axis=-1))


def class_iou(cm: np.ndarray) -> np.ndarray:
    """(…, K) float64: intersection / union per class; NaN when the union is 0."""
    cm = np.asarray(cm)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    union = cm.sum(axis=-1) + cm.sum(axis=-2) - tp
    return _divide(tp, union)


def class_precision(cm: np.ndarray) -> np.ndarray:
    """(…, K) float64: CM[c, c] / pixels predicted as c; NaN when none is predicted as c."""
    cm = np.asarray(cm)
    return _divide(np.diagonal(cm, axis1=-2, axis2=-1), cm.sum(axis=-2))


def class_dice(cm: np.ndarray) -> np.ndarray:
    """(…, K) float64: Dice coefficient = F1 = 2 TP / (true + predicted pixels of c); NaN when
    the class is absent from both."""
    cm = np.asarray(cm)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    return _divide(2 * tp, cm.sum(axis=-1) + cm.sum(axis=-2))


def dice_from_iou(iou: np.ndarray) -> np.ndarray:
    """Dice = 2 J / (1 + J) of IoU (Jaccard) values J, elementwise; NaN stays NaN."""
    iou = np.asarray(iou, dtype=np.float64)
    return 2 * iou / (1 + iou)


def weighted_iou(cm: np.ndarray) -> np.ndarray:
    """Frequency-weighted IoU: sum_c true_c * iou_c / sum_c true_c, NaN terms left out."""
    cm = np.asarray(cm)
    true = cm.sum(axis=-1).astype(np.float64)
    iou = class_iou(cm)
    terms = np.where(np.isnan(iou), 0.0, iou * true)
    return _divide(terms.sum(axis=-1), true.sum(axis=-1))


def nan_mean(values: np.ndarray, nan_policy: str = "omit", axis: int = -1) -> np.ndarray:
    """Mean along ``axis``: "omit" leaves NaN out (NaN only when all are NaN); "propagate"
    returns NaN when any value is NaN (MATLAB's ``mean``)."""
    check_nan_policy(nan_policy)
    values = np.asarray(values, dtype=np.float64)
    if nan_policy == "propagate":
        return values.mean(axis=axis) if values.shape[axis] else np.full(values.sum(axis=axis).shape, np.nan)
    valid = ~np.isnan(values)
    return _divide(np.where(valid, values, 0.0).sum(axis=axis), valid.sum(axis=axis))


def dataset_metrics_from_confusion(cm: np.ndarray, nan_policy: str = "omit") -> dict[str, float]:
    """``global_accuracy``, ``mean_accuracy``, ``mean_iou``, ``weighted_iou`` of one K x K CM.

    Returns a dict of Python floats (NaN where undefined); see the module docstring for
    the definitions and ``nan_policy``.
    """
    cm = np.asarray(cm)
    return {
        "global_accuracy": float(global_accuracy(cm)),
        "mean_accuracy": float(nan_mean(class_accuracy(cm), nan_policy)),
        "mean_iou": float(nan_mean(class_iou(cm), nan_policy)),
        "weighted_iou": float(weighted_iou(cm)),
    }
