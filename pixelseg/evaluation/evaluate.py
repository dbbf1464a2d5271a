"""``evaluate_semantic_segmentation``: MATLAB's ``evaluateSemanticSegmentation`` in Python.

Streams the images: each pair is read, counted into the data set confusion matrix, scored
(image metrics, BF score) and dropped, so memory does not grow with the number of images
(beyond one small row of numbers per image for the image tables).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from pixelseg.errors import ConfigurationError
from pixelseg.evaluation.bfscore import bf_score
from pixelseg.evaluation.confusion import VOID, confusion_matrix
from pixelseg.evaluation.inputs import as_array, class_names_of, iter_pairs, label_maps, length_of
from pixelseg.evaluation.metrics import check_nan_policy
from pixelseg.evaluation.regions import EvaluationRegions, outside_excluded
from pixelseg.evaluation.results import METRIC_NAMES, SemanticSegmentationMetrics, stack_image_stats
from pixelseg.utils.schema import did_you_mean

__all__ = ["evaluate_semantic_segmentation", "AbsentClassWarning"]

_ALIASES = {
    "all": METRIC_NAMES,
    "global_accuracy": ("global_accuracy",),
    "accuracy": ("accuracy",),
    "mean_accuracy": ("accuracy",),
    "iou": ("iou",),
    "mean_iou": ("iou",),
    "weighted_iou": ("weighted_iou",),
    "bf_score": ("bf_score",),
    "bfscore": ("bf_score",),
    "mean_bf_score": ("bf_score",),
    "dice": ("dice",),
    "mean_dice": ("dice",),
    "f1": ("dice",),
    "precision": ("precision",),
    "recall": ("recall",),
}


class _ImageStats:
    """Per-image statistics from per-image confusion matrices, derived 256 images at a time
    (vectorised) while only the data set matrix and one small row per image are kept."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.total = np.zeros((k, k), np.int64)
        self.count = 0
        self._pending: list[np.ndarray] = []
        self._blocks: list[dict] = []

    def add(self, cm: np.ndarray) -> None:
        self.total += cm
        self.count += 1
        self._pending.append(cm)
        if len(self._pending) == 256:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._blocks.append(stack_image_stats(np.stack(self._pending), self.k))
            self._pending.clear()

    def result(self) -> dict:
        self._flush()
        return {key: np.concatenate([b[key] for b in self._blocks]) for key in self._blocks[0]}


class AbsentClassWarning(UserWarning):
    """A class has no true pixels (accuracy NaN) or is absent from both truth and
    prediction (IoU NaN) over the whole data set; the message says how means treat it."""


def _metric_selection(metrics: str | Sequence[str]) -> tuple[str, ...]:
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    chosen: set[str] = set()
    for name in names:
        key = str(name).lower().replace("-", "_")
        if key not in _ALIASES:
            raise ConfigurationError(
                f"metrics: unknown metric {name!r}{did_you_mean(key, _ALIASES)}; choose 'all' or from "
                f"{list(METRIC_NAMES)}"
            )
        chosen.update(_ALIASES[key])
    if not chosen:
        raise ConfigurationError("metrics: the list of metrics is empty")
    return tuple(m for m in METRIC_NAMES if m in chosen)


def _class_names(class_set: Any, predictions: Any, truth: Any) -> list[str]:
    """Class names from ``class_set`` (ClassSet, list of names or K) or the datastores."""
    truth_names = class_names_of(truth) if truth is not None else None
    pred_names = class_names_of(predictions)
    if class_set is None:
        names = truth_names or pred_names
        if names is None:
            raise ConfigurationError(
                "class_set is needed (a ClassSet, a list of class names, or the number of classes) "
                "when neither predictions nor truth is a datastore with a class_set"
            )
    elif hasattr(class_set, "names"):
        names = list(class_set.names)
    elif isinstance(class_set, (int, np.integer)) and not isinstance(class_set, bool):
        names = [str(i) for i in range(int(class_set))]
    elif isinstance(class_set, Sequence) and not isinstance(class_set, str) and all(isinstance(n, str) for n in class_set):
        names = list(class_set)
    else:
        raise ConfigurationError(
            f"class_set must be a ClassSet, a list of class names or an int, got {class_set!r}"
        )
    if not 1 <= len(names) <= 255:
        raise ConfigurationError(f"class_set: between 1 and 255 classes are supported, got {len(names)}")
    for side, other in (("truth", truth_names), ("predictions", pred_names)):
        if other is not None and list(other) != names:
            raise ConfigurationError(
                f"the class names of the {side} datastore {list(other)} differ from the class set {names}"
            )
    return names


def _warn_absent(result: SemanticSegmentationMetrics) -> None:
    absent = result.absent_classes()
    other = "propagate" if result.nan_policy == "omit" else "omit"
    if absent["absent"]:
        warnings.warn(
            f"class(es) {absent['absent']} appear in neither the ground truth nor the predictions: "
            f"their IoU and accuracy are NaN. mean_iou and mean_accuracy use nan_policy="
            f"{result.nan_policy!r} ({_policy_words(result.nan_policy)}); nan_policy={other!r} gives "
            f"{_policy_words(other)}.",
            AbsentClassWarning,
            stacklevel=4,
        )
    only_pred = [n for n in absent["no_truth"] if n not in absent["absent"]]
    if only_pred:
        warnings.warn(
            f"class(es) {only_pred} have no ground-truth pixels but are predicted: their accuracy is NaN "
            f"and their IoU 0. mean_accuracy uses nan_policy={result.nan_policy!r} "
            f"({_policy_words(result.nan_policy)}).",
            AbsentClassWarning,
            stacklevel=4,
        )


def _policy_words(policy: str) -> str:
    return "mean over the classes with a value" if policy == "omit" else "NaN, as MATLAB"


def evaluate_semantic_segmentation(
    predictions: Any = None,
    truth: Any = None,
    class_set: Any = None,
    metrics: str | Sequence[str] = "all",
    nan_policy: str = "omit",
    verbose: bool = True,
    *,
    confusion_matrices: Iterable[np.ndarray] | np.ndarray | None = None,
    image_names: Sequence[str] | None = None,
    void: int = VOID,
    bf_threshold: float | None = None,
    regions: Any = None,
) -> SemanticSegmentationMetrics:
    """Evaluate label maps against the ground truth (MATLAB ``evaluateSemanticSegmentation``).

    Args:
        predictions: predicted label maps: a ``PixelLabelDatastore``, an N x H x W array
            or tensor, or a list/iterable of H x W integer arrays (class indices 0..K-1).
            With ``truth=None``: a dataset yielding ``(prediction, truth)`` pairs.
        truth: true label maps in the same forms, H x W, class indices with ``void``
            (255) for pixels left out of every metric. Paired with predictions by position.
        class_set: a ClassSet, a list of K class names, or K; default the ``class_set``
            of the truth (or prediction) datastore.
        metrics: "all" or a list from "global_accuracy", "accuracy", "iou",
            "weighted_iou", "bf_score" (the BF score is the slow one), "dice" (alias "f1"),
            "precision", "recall".
        nan_policy: how mean_accuracy / mean_iou treat a class without a value (NaN):
            "omit" (default) averages over the classes that have one; "propagate" gives
            NaN, as MATLAB does. BF means always leave NaN out.
        verbose: show progress and print the report at the end.
        confusion_matrices: instead of label maps, per-image (or per-block) K x K
            confusion matrices (rows truth), as an N x K x K array or an iterable of K x K
            arrays, e.g. from tiled evaluation of huge images. No BF score then.
        image_names: names of the images (rows of ``image_metrics``); default the truth
            datastore's file names, else ``image_0``, ``image_1``, ...
        void: truth value of void pixels (default 255).
        bf_threshold: BF distance tolerance in pixels; default 0.75 % of each image's
            diagonal (MATLAB).
        regions: regions of interest: only the pixels inside count (the confusion matrix,
            every metric; the BF score treats the outside as void in truth and prediction).
            A mask file, an H x W bool or 0/1 array or a rectangle ``(x, y, width, height)``
            (0-based) for every image, or a list with one per image in order (None: the
            whole image). Predictions may hold void (255) outside, as
            ``semanticseg(..., roi=...)`` writes them. See :mod:`pixelseg.evaluation.regions`.

    Returns:
        SemanticSegmentationMetrics (confusion_matrix, normalized_confusion_matrix,
        dataset_metrics, class_metrics, image_metrics, report(), write(out_dir)).

    Raises:
        DataError: a truth value that is neither a class index nor void (named with its
            pixel count and the image), a prediction outside 0..K-1, sizes that differ,
            an empty map, a float prediction without a class axis, NaN scores, values
            that are not numbers, or different numbers of predictions and truths.
        ConfigurationError: bad ``metrics``, ``nan_policy`` or ``class_set``; no images.

    Warns:
        AbsentClassWarning naming classes absent from the whole data set.

    Examples:
        Class 2 is absent from truth and prediction: its IoU is NaN and it is left out of the
        means (``nan_policy="omit"``; ``"propagate"`` gives NaN, as MATLAB does):

        >>> import numpy as np
        >>> from pixelseg import evaluate_semantic_segmentation
        >>> prediction = np.array([[0, 1, 0, 1]], np.uint8)
        >>> truth = np.array([[0, 1, 0, 0]], np.uint8)
        >>> m = evaluate_semantic_segmentation([prediction], [truth], class_set=3, verbose=False)
        >>> m.class_metrics["iou"].round(4).tolist()
        [0.6667, 0.5, nan]
        >>> m.dataset_metrics[["global_accuracy", "mean_iou", "weighted_iou"]].round(4)
           global_accuracy  mean_iou  weighted_iou
        0             0.75    0.5833         0.625
    """
    nan_policy = check_nan_policy(nan_policy)
    selected = _metric_selection(metrics)
    if confusion_matrices is not None:
        if predictions is not None or truth is not None:
            raise ConfigurationError("pass either confusion_matrices or predictions/truth, not both")
        if regions is not None:
            raise ConfigurationError("regions need label maps; confusion matrices are counted already")
        if class_set is None:
            raise ConfigurationError("class_set is needed with confusion_matrices (a ClassSet, names or K)")
        return _from_confusion(confusion_matrices, _class_names(class_set, None, None), selected, nan_policy,
                               verbose, image_names)
    if predictions is None:
        raise ConfigurationError("predictions are missing (or pass confusion_matrices=...)")
    names = _class_names(class_set, predictions, truth)
    k = len(names)
    want_bf = "bf_score" in selected
    stats = _ImageStats(k)
    rows: list[str] = []
    bfs: list[np.ndarray] = []
    areas = EvaluationRegions(regions, length_of(predictions)) if regions is not None else None
    pairs = iter_pairs(predictions, truth)
    if verbose:
        from tqdm.auto import tqdm

        pairs = tqdm(pairs, total=length_of(predictions), desc="evaluating", unit="image", leave=False)
    for name, pred, true in pairs:
        pred, true = label_maps(str(name), pred, true)
        if areas is not None:
            pred, true = outside_excluded(pred, true, areas.mask(len(rows), str(name), true.shape), void)
        stats.add(confusion_matrix(pred, true, k, void=void, strict=True, source=str(name)))
        rows.append(str(name))
        if want_bf:
            bfs.append(bf_score(_squeeze(pred, name), _squeeze(true, name), k, threshold=bf_threshold,
                                source=str(name)))
    if not rows:
        raise ConfigurationError("no images to evaluate: predictions and truth are empty")
    if areas is not None:
        areas.check_count(len(rows))
    if image_names is not None:
        rows = _check_names(image_names, len(rows))
    result = SemanticSegmentationMetrics(
        class_names=tuple(names),
        confusion=stats.total,
        image_names=tuple(rows),
        image_confusion_stats=stats.result(),
        image_bf=np.stack(bfs) if want_bf else None,
        metrics=selected,
        nan_policy=nan_policy,
    )
    return _finish(result, verbose)


def _finish(result: SemanticSegmentationMetrics, verbose: bool) -> SemanticSegmentationMetrics:
    _warn_absent(result)
    if verbose:
        print(result.report())
    return result


def _check_names(image_names: Sequence[str], n: int) -> list[str]:
    names = [str(x) for x in image_names]
    if len(names) != n:
        raise ConfigurationError(f"image_names holds {len(names)} names for {n} images")
    return names


def _squeeze(x: np.ndarray, name: str) -> np.ndarray:
    if x.ndim == 3 and x.shape[0] == 1:
        return x[0]
    if x.ndim == 3 and x.shape[-1] == 1:
        return x[..., 0]
    if x.ndim != 2:
        raise ConfigurationError(f"{name}: BF score needs H x W label maps, got shape {x.shape}")
    return x


def _from_confusion(cms: Any, names: list[str], selected: tuple[str, ...], nan_policy: str, verbose: bool,
                    image_names: Sequence[str] | None) -> SemanticSegmentationMetrics:
    k = len(names)
    if "bf_score" in selected:
        selected = tuple(m for m in selected if m != "bf_score")
    if not selected:
        raise ConfigurationError("metrics: the BF score needs label maps, not confusion matrices")
    arrays = np.asarray(cms) if isinstance(cms, np.ndarray) else None
    if arrays is not None and arrays.ndim == 2:
        arrays = arrays[None]
    items = arrays if arrays is not None else cms
    stats = _ImageStats(k)
    for i, cm in enumerate(items):
        cm = as_array(cm)
        if cm.shape != (k, k):
            raise ConfigurationError(f"confusion matrix {i} has shape {cm.shape}; expected {k} x {k} for {k} classes")
        if not np.issubdtype(cm.dtype, np.integer) and not np.all(np.mod(cm, 1) == 0):
            raise ConfigurationError(f"confusion matrix {i} holds non-integer counts")
        if (cm < 0).any():
            raise ConfigurationError(f"confusion matrix {i} holds negative counts")
        stats.add(cm.astype(np.int64))
    n = stats.count
    if n == 0:
        raise ConfigurationError("confusion_matrices is empty")
    rows = _check_names(image_names, n) if image_names is not None else [f"image_{i}" for i in range(n)]
    result = SemanticSegmentationMetrics(
        class_names=tuple(names), confusion=stats.total, image_names=tuple(rows),
        image_confusion_stats=stats.result(),
        image_bf=None, metrics=selected, nan_policy=nan_policy,
    )
    return _finish(result, verbose)
