"""Prediction and ground-truth label folders, paired by file name, as datastores."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pixelseg.errors import ConfigurationError, DataError

__all__ = ["label_folders", "PREDICTION_ENCODINGS"]

#: How prediction files are read: "indices" (pixel value = class index, as semanticseg
#: writes them) or "truth" (through the same class set as the ground truth, e.g. colours).
PREDICTION_ENCODINGS = ("indices", "truth")


def _key(name: str, prefix: str) -> str:
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


def label_folders(
    pred_dir: str | os.PathLike,
    truth_dir: str | os.PathLike,
    class_set: Any,
    prefix: str = "pred_",
    pred_encoding: str = "indices",
) -> tuple[Any, Any]:
    """Two ``PixelLabelDatastore`` of the same length, pairs in the same order.

    A prediction file ``<prefix><stem>.<ext>`` (or ``<stem>.<ext>``) pairs with the truth
    file of the same stem; the truth folder's natural order is kept.

    Args:
        pred_dir, truth_dir: folders of label files.
        class_set: ClassSet (or a path to classes.json/.yaml) of the ground truth.
        prefix: prefix of the prediction file names (semanticseg writes ``pred_``).
        pred_encoding: "indices" (default; pixel values are class indices 0..K-1) or
            "truth" (read through ``class_set`` like the ground truth).

    Raises:
        DataError: a folder is missing or empty, a truth file has no prediction or a
            prediction has no truth file (the names are listed), or two files share a stem.
        ConfigurationError: unknown ``pred_encoding``.
    """
    from pixelseg.data import ClassSet, PixelLabelDatastore

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
    if len(truth) == 0:
        raise DataError(f"no label files in the ground-truth folder {truth_dir}")
    by_key: dict[str, Path] = {}
    for path in preds.files:
        key = _key(Path(path).stem, prefix)
        if key in by_key:
            raise DataError(f"two prediction files pair with the same truth name {key!r}: {by_key[key]} and {path}")
        by_key[key] = path
    truth_keys = [Path(p).stem for p in truth.files]
    missing = [k for k in truth_keys if k not in by_key]
    extra = sorted(set(by_key) - set(truth_keys))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} ground-truth file(s) without a prediction in {pred_dir} "
                         f"(expected {prefix}<name>): {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
        if extra:
            parts.append(f"{len(extra)} prediction(s) without a ground-truth file in {truth_dir}: "
                         f"{', '.join(extra[:5])}" + (" ..." if len(extra) > 5 else ""))
        raise DataError("; ".join(parts))
    preds = PixelLabelDatastore([str(by_key[k]) for k in truth_keys], pred_set)
    return preds, truth
