"""The evaluate job (``pixelseg evaluate``): a folder of predicted label maps scored against a
folder of ground-truth label files with MATLAB's evaluateSemanticSegmentation definitions.

The folders are paired by file name with :func:`pixelseg.data.combine`: the prediction
``<prefix><name>.png`` belongs to the ground-truth file ``<name>.<ext>``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pixelseg.data import ClassSet, ImageDatastore, PixelLabelDatastore, combine
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.evaluation import SemanticSegmentationMetrics, evaluate_semantic_segmentation
from pixelseg.evaluation.report import OUTPUT_FILES

__all__ = ["run_evaluate", "paired_label_folders", "PREDICTION_ENCODINGS"]

#: How prediction files are read: "indices" (pixel value = class index, as semanticseg
#: writes them) or "truth" (through the same class set as the ground truth, e.g. colours).
PREDICTION_ENCODINGS = ("indices", "truth")
_LISTED = 5


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names[:_LISTED]) + (" ..." if len(names) > _LISTED else "")


def _check_all_paired(preds, truth, prefix: str, pred_dir, truth_dir) -> None:
    """DataError listing the ground-truth files without a prediction and the predictions
    without a ground-truth file (by name, as ``combine(..., label_prefix=prefix)`` pairs them)."""
    pred_names = {name.removeprefix(prefix) for name in preds.names}
    truth_names = truth.names
    missing = [name for name in truth_names if name not in pred_names]
    extra = sorted(pred_names - set(truth_names))
    parts = []
    if missing:
        parts.append(f"{len(missing)} ground-truth file(s) without a prediction in {pred_dir} "
                     f"(expected {prefix}<name>): {_listing(missing)}")
    if extra:
        parts.append(f"{len(extra)} prediction(s) without a ground-truth file in {truth_dir}: {_listing(extra)}")
    if parts:
        raise DataError("; ".join(parts))


def paired_label_folders(pred_dir: str | os.PathLike, truth_dir: str | os.PathLike, class_set: Any,
                         prefix: str = "pred_", pred_encoding: str = "indices") -> tuple[Any, Any]:
    """The predictions and the ground truth as two ``PixelLabelDatastore`` of the same length,
    pair i at position i in both, in the truth folder's natural order.

    Args:
        pred_dir, truth_dir: folders of label files.
        class_set: ClassSet (or a path to classes.json/.yaml) of the ground truth.
        prefix: prefix of the prediction file names (semanticseg writes ``pred_``); a
            prediction without it pairs by its plain stem.
        pred_encoding: "indices" (default; pixel values are class indices 0..K-1) or
            "truth" (read through ``class_set`` like the ground truth).

    Raises:
        DataError: a folder is missing or holds no label files, a truth file has no
            prediction or a prediction has no truth file (the names are listed), or two
            files pair with the same name.
        ConfigurationError: unknown ``pred_encoding``.
    """
    if pred_encoding not in PREDICTION_ENCODINGS:
        raise ConfigurationError(f"pred_encoding must be one of {PREDICTION_ENCODINGS}, got {pred_encoding!r}")
    for what, folder in (("prediction", pred_dir), ("ground-truth", truth_dir)):
        if not Path(folder).is_dir():
            raise DataError(f"the {what} folder {folder} does not exist or is not a folder")
    if not isinstance(class_set, ClassSet):
        class_set = ClassSet.load(class_set)
    truth = PixelLabelDatastore(truth_dir, class_set)
    pred_set = class_set if pred_encoding == "truth" else ClassSet(list(class_set.names), colors=class_set.colors)
    preds = PixelLabelDatastore(pred_dir, pred_set)
    _check_all_paired(preds, truth, prefix, pred_dir, truth_dir)
    # combine orders the predictions by the truth files (here in the role of the images).
    paired = combine(ImageDatastore(truth.files), preds, label_prefix=prefix)
    return paired.labels, truth


def run_evaluate(pred: str | os.PathLike, truth: str | os.PathLike, classes: Any, out: str | os.PathLike,
                 nan_policy: str = "omit", metrics: str | Sequence[str] = "all", pred_prefix: str = "pred_",
                 pred_encoding: str = "indices", worst: int = 10, overwrite: bool = False, quiet: bool = False,
                 echo: Callable[[str], None] = print) -> SemanticSegmentationMetrics:
    """Score the label maps in ``pred`` against ``truth`` and write the results into ``out``.

    Writes ``out/``: metrics.json, dataset_metrics.csv, class_metrics.csv, image_metrics.csv,
    confusion_matrix.csv, worst_images.csv and confusion_matrix.png.

    Args:
        pred, truth, classes, pred_prefix, pred_encoding: as for :func:`paired_label_folders`.
        out: output folder (created).
        nan_policy, metrics: as for :func:`pixelseg.evaluation.evaluate_semantic_segmentation`.
        worst: number of worst images (by mean IoU) listed.
        overwrite: replace existing output files.
        quiet: no progress bar (the report is printed either way).
        echo: receives the report and the summary line.

    Returns:
        The ``SemanticSegmentationMetrics``.

    Raises:
        FileExistsError: an output file exists and ``overwrite`` is False (checked first).
        DataError, ConfigurationError: see :func:`paired_label_folders` and
            ``evaluate_semantic_segmentation``.
    """
    out = Path(out)
    if not overwrite:
        existing = [name for name in OUTPUT_FILES if (out / name).exists()]
        if existing:
            raise FileExistsError(f"{out} already holds {', '.join(existing)}; pass --overwrite to replace them")
    preds, truths = paired_label_folders(pred, truth, classes, prefix=pred_prefix, pred_encoding=pred_encoding)
    result = evaluate_semantic_segmentation(preds, truths, metrics=metrics, nan_policy=nan_policy, verbose=not quiet)
    if quiet:
        echo(result.report())
    written = result.write(out, overwrite=overwrite, worst=worst)
    echo(f"wrote {len(written)} files to {out}")
    return result
