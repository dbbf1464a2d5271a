"""The evaluate job (``pixelseg evaluate``): a folder of predicted label maps scored against the
ground truth (a folder of label files, or a split of a ``data:`` block) with MATLAB's
evaluateSemanticSegmentation definitions, inside the regions of interest when there are
some (the ``data:`` block's region masks, or ``regions``: a folder of masks or one mask).

Files are paired by name: the prediction ``<prefix><name><pred_suffix>.png`` belongs to the
ground-truth file ``<name><label_suffix>.<ext>`` (or, for a ``data:`` block, to the label
of the image ``<name>.<ext>``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pixelseg.conventions import VOID
from pixelseg.data import ClassSet, PairedDatastore, PixelLabelDatastore
from pixelseg.data.files import check_names_unique, list_files
from pixelseg.data.io import LABEL_EXTENSIONS
from pixelseg.data.spec import open_data
from pixelseg.data.suffix_hint import suffix_hint
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.evaluation import SemanticSegmentationMetrics, evaluate_semantic_segmentation
from pixelseg.evaluation.report import OUTPUT_FILES
from pixelseg.workflow._common import data_from_yaml

__all__ = ["run_evaluate", "paired_label_folders", "region_files_for", "PREDICTION_ENCODINGS"]

_log = logging.getLogger(__name__)

#: How prediction files are read: "indices" (pixel value = class index, as semanticseg
#: writes them) or "truth" (through the same class set as the ground truth, e.g. colours).
PREDICTION_ENCODINGS = ("indices", "truth")
_LISTED = 5


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names[:_LISTED]) + (" ..." if len(names) > _LISTED else "")


def _check_all_paired(pred_keys, truth_keys, prefix: str, suffix: str, pred_dir, truth_dir) -> None:
    """DataError listing the ground-truth files without a prediction and the predictions
    without a ground-truth file (by key)."""
    missing = [key for key in truth_keys if key not in set(pred_keys)]
    extra = sorted(set(pred_keys) - set(truth_keys))
    parts = []
    if missing:
        parts.append(f"{len(missing)} ground-truth file(s) without a prediction in {pred_dir} "
                     f"(expected {prefix}<name>{suffix}): {_listing(missing)}")
    if extra:
        parts.append(f"{len(extra)} prediction(s) without a ground-truth file in {truth_dir}: {_listing(extra)}")
    if parts:
        hint = suffix_hint(truth_keys, pred_keys, missing, extra, "label_suffix (--label-suffix)",
                           "pred_suffix (--pred-suffix)")
        raise DataError("; ".join(parts) + (f"; {hint}" if hint else ""))


def _keys(files: Sequence[Any], folder: Path | None, prefix: str = "", suffix: str = "",
          dirs: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """(relative keys, base keys) of files: the stem without ``prefix`` and ``suffix`` (where
    present), with the file's folder below ``folder`` (or ``dirs[i]``) in front for the
    relative key."""
    rel, base = [], []
    for i, f in enumerate(files):
        key = Path(f).stem
        key = key[len(prefix):] if prefix and key.startswith(prefix) else key
        key = key[: -len(suffix)] if suffix and key.endswith(suffix) else key
        sub = dirs[i] if dirs is not None else Path(os.path.relpath(Path(f).parent, folder)).as_posix()
        rel.append(key if sub in ("", ".") else f"{sub}/{key}")
        base.append(key)
    return rel, base


def _truth_folder(truth_dir: Path, class_set: ClassSet, label_suffix: str,
                  read_options: dict[str, Any]) -> PixelLabelDatastore:
    """The label files below ``truth_dir`` (subfolders too) whose stem ends with
    ``label_suffix``, read with ``read_options``."""
    files = list_files(truth_dir, True, None, LABEL_EXTENSIONS, "ground-truth label files")
    files = [f for f in files if not label_suffix or Path(f).stem.endswith(label_suffix)]
    if not files:
        raise DataError(f"{truth_dir}: no label file ends with the label suffix {label_suffix!r}")
    return PixelLabelDatastore(files, class_set, **read_options)


def paired_label_folders(pred_dir: str | os.PathLike, truth_dir: str | os.PathLike | None, class_set: Any,
                         prefix: str = "pred_", pred_encoding: str = "indices", *, label_suffix: str = "",
                         pred_suffix: str = "", read_options: dict[str, Any] | None = None,
                         truth: PairedDatastore | None = None) -> tuple[Any, Any]:
    """The predictions and the ground truth as two ``PixelLabelDatastore`` of the same length,
    pair i at position i in both, in the truth's order.

    A prediction ``<prefix><key><pred_suffix>.png`` belongs to the truth file whose key is
    ``key``: its stem without ``label_suffix`` (truth from a folder), or the stem of its
    image (truth from a ``data:`` block, as ``semanticseg`` names its outputs
    ``pred_<image stem>.png``). Both folders are searched with their subfolders: files pair
    by their path below their folder (``site_a/pred_x.png`` with ``site_a/x.png``, as
    ``pixelseg predict --data`` writes them) when every prediction finds its truth that
    way, else by file name alone (which must then be unique).

    Args:
        pred_dir: folder of predicted label maps.
        truth_dir: folder of ground-truth label files (None when ``truth`` is given).
        class_set: ClassSet (or a path to classes.json/.yaml) of the ground truth.
        prefix: prefix of the prediction file names (semanticseg writes ``pred_``); a
            prediction without it pairs by its plain stem.
        pred_encoding: "indices" (default; pixel values are class indices 0..K-1) or
            "truth" (read through ``class_set`` like the ground truth).
        label_suffix: only truth files whose stem ends with it are read (Cityscapes:
            ``_gtFine_labelIds``; CamVid colour masks: ``_L``); it is removed before pairing.
        pred_suffix: removed from the prediction stems (``_leftImg8bit``).
        read_options: label reading options of the truth (:mod:`pixelseg.data.label_reading`).
        truth: the pairs of a ``data:`` block's split; its labels are the ground truth.

    Raises:
        DataError: a folder is missing or holds no label files, a truth file has no
            prediction or a prediction has no truth file (the names are listed), or two
            files pair with the same name.
        ConfigurationError: unknown ``pred_encoding`` or reading option.
    """
    if pred_encoding not in PREDICTION_ENCODINGS:
        raise ConfigurationError(f"pred_encoding must be one of {PREDICTION_ENCODINGS}, got {pred_encoding!r}")
    for what, folder in (("prediction", pred_dir), ("ground-truth", truth_dir)):
        if folder is not None and not Path(folder).is_dir():
            raise DataError(f"the {what} folder {folder} does not exist or is not a folder")
    if not isinstance(class_set, ClassSet):
        class_set = ClassSet.load(class_set)
    if truth is not None:
        labels, truth_dir = truth.labels, "the data"
        keys = _keys(truth.images.files, None, dirs=[n.rpartition("/")[0] for n in truth.names])
    else:
        labels = _truth_folder(Path(truth_dir), class_set, label_suffix, read_options or {})
        keys = _keys(labels.files, Path(truth_dir), suffix=label_suffix)
    pred_set = class_set if pred_encoding == "truth" else ClassSet(list(class_set.names), colors=class_set.colors,
                                                                   void_ids=[VOID])
    preds = PixelLabelDatastore(pred_dir, pred_set, include_subfolders=True)
    pred_rel, pred_base = _keys(preds.files, Path(pred_dir), prefix, pred_suffix)
    by_path = set(pred_rel) <= set(keys[0]) and len(set(keys[0])) == len(keys[0])
    keys, pred_keys = (keys[0], pred_rel) if by_path else (keys[1], pred_base)
    check_names_unique(keys, labels.files, "ground truth")
    check_names_unique(pred_keys, preds.files, "predictions")
    _check_all_paired(pred_keys, keys, prefix, pred_suffix, pred_dir, truth_dir)
    index = dict(zip(pred_keys, range(len(pred_keys)), strict=True))
    return preds.subset([index[k] for k in keys]), labels


def region_files_for(truth_files: Sequence[Any], truth_dir: str | os.PathLike, regions: str | os.PathLike,
                     label_suffix: str = "", region_suffix: str = "") -> list[Path]:
    """The region mask of each ground-truth file: ``regions`` itself when it is a file (one
    mask for all), else the file below the folder ``regions`` paired as the predictions are:
    by path below the folders (stem without ``region_suffix``, truth stem without
    ``label_suffix``) when every truth file finds its mask that way, else by name alone.

    Raises:
        DataError: ``regions`` does not exist, or a truth file without a mask (listed), or
            two masks with the same name.
    """
    regions = Path(regions)
    if regions.is_file():
        return [regions] * len(truth_files)
    if not regions.is_dir():
        raise DataError(f"--regions {regions}: no such mask file or folder")
    files = list_files(regions, True, None, LABEL_EXTENSIONS, "region mask files")
    files = [f for f in files if not region_suffix or Path(f).stem.endswith(region_suffix)]
    truth_rel, truth_base = _keys(truth_files, Path(truth_dir), suffix=label_suffix)
    rel, base = _keys(files, regions, suffix=region_suffix)
    by_path = set(truth_rel) <= set(rel)
    keys, wanted = (rel, truth_rel) if by_path else (base, truth_base)
    check_names_unique(keys, files, "region masks")
    index = dict(zip(keys, files, strict=True))
    missing = [key for key in wanted if key not in index]
    if missing:
        raise DataError(f"{len(missing)} ground-truth file(s) without a region mask in {regions} (expected "
                        f"<name>{region_suffix}.<ext>; --region-suffix removes a suffix): {_listing(missing)}")
    return [Path(index[key]) for key in wanted]


def run_evaluate(pred: str | os.PathLike, truth: str | os.PathLike | None, classes: Any, out: str | os.PathLike,
                 nan_policy: str = "omit", metrics: str | Sequence[str] = "all", pred_prefix: str = "pred_",
                 pred_encoding: str = "indices", worst: int = 10, overwrite: bool = False, quiet: bool = False,
                 echo: Callable[[str], None] = _log.info, *, label_suffix: str = "", pred_suffix: str = "",
                 read_options: dict[str, Any] | None = None, data: Any = None,
                 split: str | None = None, regions: str | os.PathLike | None = None,
                 region_suffix: str = "") -> SemanticSegmentationMetrics:
    """Score the label maps in ``pred`` against the ground truth and write the results into ``out``.

    The ground truth is a folder (``truth``, with ``label_suffix`` and ``read_options``) or
    one split of a ``data:`` block (``data``: a YAML file holding one, such as
    ``train.yaml``, or a DataSpec / mapping; ``split``: default ``test``, else the
    validation split, else all), read exactly as training reads it, with its region masks
    (``data.regions``): only the pixels inside them are scored.

    Writes ``out/``: metrics.json, dataset_metrics.csv, class_metrics.csv, image_metrics.csv,
    image_class_iou.csv, confusion_matrix.csv, worst_images.csv and confusion_matrix.png.

    Args:
        pred, truth, classes, pred_prefix, pred_encoding, label_suffix, pred_suffix,
            read_options: as for :func:`paired_label_folders` (``classes`` may be None
            with ``data``: the YAML's ``classes:`` or the layout's own).
        out: output folder (created).
        nan_policy, metrics: as for :func:`pixelseg.evaluation.evaluate_semantic_segmentation`.
        regions, region_suffix: with ``truth``, the regions of interest: one mask file for
            every image, or a folder of masks paired with the truth files
            (:func:`region_files_for`). Only the pixels inside count.
        worst: number of worst images (by mean IoU) listed.
        overwrite: replace existing output files.
        quiet: no progress bar (the report is printed either way).
        echo: receives the report (with ``quiet``) and the summary line; default: the logger (INFO).

    Returns:
        The ``SemanticSegmentationMetrics``.

    Raises:
        FileExistsError: an output file exists and ``overwrite`` is False (checked first).
        DataError, ConfigurationError: see :func:`paired_label_folders` and
            ``evaluate_semantic_segmentation``; both or neither of ``truth`` and ``data``;
            ``regions`` with ``data``.
    """
    out = Path(out)
    if not overwrite:
        existing = [name for name in OUTPUT_FILES if (out / name).exists()]
        if existing:
            raise FileExistsError(f"{out} already holds {', '.join(existing)}; pass --overwrite to replace them")
    if (truth is None) == (data is None):
        raise ConfigurationError("give the ground truth either as a folder (--truth) or as a data: block (--data)")
    if regions is not None and data is not None:
        raise ConfigurationError("--regions applies to --truth; with --data the regions come from the data: block "
                                 "(regions: a mask file there gives one for all, regions: false none)")
    pairs = None
    if data is not None:
        if isinstance(data, (str, os.PathLike)):
            data, classes = data_from_yaml(data, classes)
        opened = open_data(data, classes)
        pairs, classes = opened.split(split), opened.class_set
    elif classes is None:
        raise ConfigurationError("--classes is needed with --truth (the class set of the ground truth)")
    preds, truths = paired_label_folders(pred, truth, classes, prefix=pred_prefix, pred_encoding=pred_encoding,
                                         label_suffix=label_suffix, pred_suffix=pred_suffix,
                                         read_options=read_options, truth=pairs)  # fmt: skip
    masks = pairs.region_files if pairs is not None else None
    if regions is not None:
        masks = region_files_for(truths.files, truth, regions, label_suffix, region_suffix)
    if masks is not None:
        echo(f"scoring the pixels inside {sum(m is not None for m in masks)} region mask(s)")
    result = evaluate_semantic_segmentation(preds, truths, metrics=metrics, nan_policy=nan_policy, verbose=not quiet,
                                            regions=masks)
    if quiet:
        echo(result.report())
    written = result.write(out, overwrite=overwrite, worst=worst)
    echo(f"wrote {len(written)} files to {out}")
    return result
