"""``SemanticSegmentationMetrics``: the result of an evaluation, as pandas tables.

Column names (MATLAB's ``evaluateSemanticSegmentation`` names in snake case): data set ``global_accuracy``, ``mean_accuracy``, ``mean_iou``,
``weighted_iou``, ``mean_bf_score``; per class ``accuracy``, ``iou``, ``mean_bf_score``;
``dice``, ``precision``, ``recall`` and data set ``mean_dice`` (the F1-style metrics of
medical imaging and inspection); per image the data set columns computed on that image
alone; for two-class tasks the foreground class's IoU, Dice (F1), precision and recall. Definitions are MATLAB's
(see :mod:`pixelseg.evaluation.metrics` and :mod:`pixelseg.evaluation.bfscore`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pixelseg.evaluation.metrics import (
    check_nan_policy,
    class_accuracy,
    class_dice,
    class_iou,
    class_precision,
    dice_from_iou,
    global_accuracy,
    nan_mean,
    weighted_iou,
)

__all__ = ["SemanticSegmentationMetrics", "METRIC_NAMES"]

#: Selectable metrics (argument ``metrics`` of evaluate_semantic_segmentation).
METRIC_NAMES = ("global_accuracy", "accuracy", "iou", "weighted_iou", "bf_score", "dice", "precision", "recall")

_DATASET_COLUMN = {
    "global_accuracy": "global_accuracy",
    "accuracy": "mean_accuracy",
    "iou": "mean_iou",
    "weighted_iou": "weighted_iou",
    "bf_score": "mean_bf_score",
    "dice": "mean_dice",
}
_CLASS_COLUMN = {"accuracy": "accuracy", "iou": "iou", "bf_score": "mean_bf_score", "dice": "dice",
                 "precision": "precision", "recall": "recall"}


@dataclass(frozen=True, eq=False)
class SemanticSegmentationMetrics:
    """Metrics of a set of label maps (MATLAB ``semanticSegmentationMetrics``).

    Build it with :func:`~pixelseg.evaluation.evaluate_semantic_segmentation`. Tables:

    - ``confusion_matrix``: K x K DataFrame of pixel counts (int64), rows the true class
      (index name "truth"), columns the predicted class ("prediction"), void excluded.
    - ``normalized_confusion_matrix``: each row divided by its sum (NaN for a class
      without true pixels).
    - ``dataset_metrics``: one row: ``global_accuracy``, ``mean_accuracy``, ``mean_iou``,
      ``weighted_iou`` (from the one confusion matrix accumulated over all images) and
      ``mean_bf_score`` (mean over images of each image's mean BF over classes, NaN left out).
      ``mean_dice`` (mean over classes of the class Dice, with ``nan_policy``).
    - ``class_metrics``: index class names; ``accuracy``, ``iou`` (data set level: summed
      intersections / summed unions), ``mean_bf_score`` (mean over images, NaN left out),
      ``dice`` (= F1), ``precision`` and ``recall`` (= ``accuracy``, its name outside MATLAB).
    - ``foreground_metrics``: for two classes, the second class's iou, dice, precision and
      recall (None otherwise).
    - ``image_metrics``: index image names; the data set columns for each image alone.
    - ``image_class_iou``, ``image_class_bf_score``: N x K per image and class.
    - ``class_image_mean_iou``: (K,) each class's IoU averaged over the images, each image
      scored alone (NaN left out): the per-image level, beside ``class_metrics``'s ``iou`` of
      the data set level (field case C08: a small image scored 1.0 and a large one 0.0 give a
      per-image mean of 0.5 where the data set IoU weighs pixels, 0.2). The report and the
      files give both, labelled.

    ``nan_policy`` says how ``mean_accuracy`` and ``mean_iou`` treat a class without a
    value (NaN): "omit" averages over the other classes; "propagate" is MATLAB (NaN).
    :meth:`with_nan_policy` gives the other view. BF means always leave NaN out (issue 9).
    Only the metrics named in ``metrics`` appear as columns.
    """

    class_names: tuple[str, ...]
    confusion: np.ndarray  # K x K int64
    image_names: tuple[str, ...]
    image_confusion_stats: dict  # name -> (N, ...) arrays: global_accuracy, weighted_iou, accuracy, iou
    image_bf: np.ndarray | None  # N x K, or None when BF was not computed
    metrics: tuple[str, ...] = METRIC_NAMES
    nan_policy: str = "omit"
    unit: str = "image"  # "image" or "block" (confusion-matrix input)

    # ----------------------------------------------------------------- tables
    @property
    def num_classes(self) -> int:
        """K, the number of classes."""
        return len(self.class_names)

    @property
    def num_images(self) -> int:
        """N, the number of images (or blocks) evaluated."""
        return len(self.image_names)

    def _classes(self, name: str) -> pd.Index:
        return pd.Index(list(self.class_names), name=name)

    @property
    def confusion_matrix(self) -> pd.DataFrame:
        """K x K pixel counts, rows truth, columns prediction."""
        return pd.DataFrame(self.confusion.copy(), index=self._classes("truth"), columns=self._classes("prediction"))

    @property
    def normalized_confusion_matrix(self) -> pd.DataFrame:
        """Rows of the confusion matrix divided by their sums (row c: share of the true pixels
        of class c predicted as each class); NaN rows for classes without true pixels."""
        cm = self.confusion.astype(np.float64)
        rows = cm.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            norm = np.where(rows > 0, cm / np.where(rows > 0, rows, 1), np.nan)
        return pd.DataFrame(norm, index=self._classes("truth"), columns=self._classes("prediction"))

    def _selected(self, columns: dict) -> list[str]:
        return [columns[m] for m in METRIC_NAMES if m in self.metrics and m in columns]

    @property
    def class_accuracy(self) -> np.ndarray:
        """(K,) data set accuracy (recall) per class; NaN for a class without true pixels."""
        return class_accuracy(self.confusion)

    @property
    def class_iou(self) -> np.ndarray:
        """(K,) data set IoU per class (summed intersections / summed unions); NaN when absent."""
        return class_iou(self.confusion)

    @property
    def class_dice(self) -> np.ndarray:
        """(K,) data set Dice (= F1) per class; NaN when absent from truth and prediction."""
        return class_dice(self.confusion)

    @property
    def class_precision(self) -> np.ndarray:
        """(K,) data set precision per class; NaN when no pixel is predicted as the class."""
        return class_precision(self.confusion)

    @property
    def foreground_metrics(self) -> dict | None:
        """For a two-class task, ``{"class", "iou", "dice", "precision", "recall"}`` of the
        foreground, taken to be the second class (index 1; the first is the background, as in
        binary masks 0/1 or 0/255); None for other class counts."""
        if self.num_classes != 2:
            return None
        return {"class": self.class_names[1], "iou": float(self.class_iou[1]), "dice": float(self.class_dice[1]),
                "precision": float(self.class_precision[1]), "recall": float(self.class_accuracy[1])}

    @property
    def class_bf_score(self) -> np.ndarray:
        """(K,) mean BF per class over images, NaN left out (NaN when no image has a value)."""
        if self.image_bf is None or self.num_images == 0:
            return np.full(self.num_classes, np.nan)
        return nan_mean(self.image_bf, "omit", axis=0)

    @property
    def image_bf_score(self) -> np.ndarray:
        """(N,) each image's mean BF over classes, NaN left out."""
        if self.image_bf is None:
            return np.full(self.num_images, np.nan)
        return nan_mean(self.image_bf, "omit", axis=1) if self.num_classes else np.full(self.num_images, np.nan)

    @property
    def dataset_metrics(self) -> pd.DataFrame:
        """One row: global_accuracy, mean_accuracy, mean_iou, weighted_iou, mean_bf_score, mean_dice."""
        values = {
            "global_accuracy": float(global_accuracy(self.confusion)),
            "mean_accuracy": float(nan_mean(self.class_accuracy, self.nan_policy)),
            "mean_iou": float(nan_mean(self.class_iou, self.nan_policy)),
            "weighted_iou": float(weighted_iou(self.confusion)),
            "mean_bf_score": float(nan_mean(self.image_bf_score, "omit")) if self.num_images else float("nan"),
            "mean_dice": float(nan_mean(self.class_dice, self.nan_policy)),
        }
        columns = self._selected(_DATASET_COLUMN)
        return pd.DataFrame([[values[c] for c in columns]], columns=columns)

    @property
    def class_metrics(self) -> pd.DataFrame:
        """Index class names; accuracy, iou, mean_bf_score, dice, precision, recall (data set level)."""
        values = {"accuracy": self.class_accuracy, "iou": self.class_iou, "mean_bf_score": self.class_bf_score,
                  "dice": self.class_dice, "precision": self.class_precision, "recall": self.class_accuracy}
        columns = self._selected(_CLASS_COLUMN)
        return pd.DataFrame({c: values[c] for c in columns}, index=self._classes("class"))

    @property
    def image_metrics(self) -> pd.DataFrame:
        """Index image names; global_accuracy, mean_accuracy, mean_iou, weighted_iou,
        mean_bf_score of each image alone (means with ``nan_policy``)."""
        s = self.image_confusion_stats
        values = {
            "global_accuracy": s["global_accuracy"],
            "mean_accuracy": nan_mean(s["accuracy"], self.nan_policy, axis=1),
            "mean_iou": nan_mean(s["iou"], self.nan_policy, axis=1),
            "weighted_iou": s["weighted_iou"],
            "mean_bf_score": self.image_bf_score,
            "mean_dice": nan_mean(dice_from_iou(s["iou"]), self.nan_policy, axis=1),
        }
        columns = self._selected(_DATASET_COLUMN)
        return pd.DataFrame({c: values[c] for c in columns}, index=pd.Index(list(self.image_names), name=self.unit))

    @property
    def image_class_iou(self) -> pd.DataFrame:
        """N x K IoU of each class in each image (NaN: class absent from both in that image)."""
        return pd.DataFrame(self.image_confusion_stats["iou"], index=pd.Index(list(self.image_names), name=self.unit),
                            columns=list(self.class_names))

    @property
    def class_image_mean_iou(self) -> np.ndarray:
        """(K,) mean over images of each class's IoU in the image alone, NaN (class absent
        from an image's truth and prediction) left out; NaN when no image has a value."""
        if self.num_images == 0:
            return np.full(self.num_classes, np.nan)
        return nan_mean(self.image_confusion_stats["iou"], "omit", axis=0)

    @property
    def image_class_bf_score(self) -> pd.DataFrame:
        """N x K BF score of each class in each image (all NaN when BF was not computed)."""
        bf = self.image_bf if self.image_bf is not None else np.full((self.num_images, self.num_classes), np.nan)
        return pd.DataFrame(bf, index=pd.Index(list(self.image_names), name=self.unit), columns=list(self.class_names))

    def worst_images(self, count: int = 10) -> pd.DataFrame:
        """The ``count`` images with the lowest mean IoU over the classes present in each
        (NaN left out whatever ``nan_policy``), worst first; columns mean_iou, global_accuracy."""
        s = self.image_confusion_stats
        table = pd.DataFrame(
            {"mean_iou": nan_mean(s["iou"], "omit", axis=1), "global_accuracy": s["global_accuracy"]},
            index=pd.Index(list(self.image_names), name=self.unit),
        )
        return table.sort_values("mean_iou", kind="stable", na_position="last").head(count)

    def absent_classes(self) -> dict[str, list[str]]:
        """Classes without a value: ``{"no_truth": [...], "absent": [...]}`` (no true pixels /
        absent from both truth and prediction over the whole set)."""
        true = self.confusion.sum(axis=1)
        both = true + self.confusion.sum(axis=0)
        return {
            "no_truth": [n for n, t in zip(self.class_names, true) if t == 0],
            "absent": [n for n, t in zip(self.class_names, both) if t == 0],
        }

    def with_nan_policy(self, nan_policy: str) -> SemanticSegmentationMetrics:
        """The same results with means over classes under ``nan_policy`` ("omit" or "propagate")."""
        return replace(self, nan_policy=check_nan_policy(nan_policy))

    # ---------------------------------------------------------------- reports
    def report(self) -> str:
        """A MATLAB-like text table: data set metrics, then class metrics, with the
        ``nan_policy`` shown and the classes without a value named."""
        from pixelseg.evaluation.report import format_report

        return format_report(self)

    def __str__(self) -> str:
        return self.report()

    def to_dict(self) -> dict:
        """Everything in metrics.json (NaN as None)."""
        from pixelseg.evaluation.report import metrics_dict

        return metrics_dict(self)

    def write(self, out_dir: str | os.PathLike, overwrite: bool = False, worst: int = 10) -> list[Path]:
        """Write metrics.json, dataset_metrics.csv, class_metrics.csv, image_metrics.csv,
        image_class_iou.csv (N x K, each image alone), confusion_matrix.csv, worst_images.csv
        and confusion_matrix.png into ``out_dir``.

        Args:
            out_dir: folder, created when missing.
            overwrite: replace files that exist. Default False.
            worst: number of worst images (by mean IoU) listed.

        Returns:
            The paths written.

        Raises:
            FileExistsError: one of the files exists and ``overwrite`` is False (checked for
                all files before any is written).
        """
        from pixelseg.evaluation.report import write_outputs

        return write_outputs(self, Path(out_dir), overwrite=overwrite, worst=worst)


def stack_image_stats(cms: Sequence[np.ndarray] | np.ndarray, num_classes: int) -> dict:
    """Per-image statistics from N x K x K confusion matrices (used for confusion input)."""
    cms = np.asarray(cms, dtype=np.int64).reshape(-1, num_classes, num_classes)
    return {
        "global_accuracy": global_accuracy(cms),
        "weighted_iou": weighted_iou(cms),
        "accuracy": class_accuracy(cms),
        "iou": class_iou(cms),
    }
