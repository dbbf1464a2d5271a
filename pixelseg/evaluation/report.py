"""Text report (MATLAB-like tables) and files (JSON, CSV, confusion-matrix PNG) of
:class:`~pixelseg.evaluation.results.SemanticSegmentationMetrics`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pixelseg.utils.atomic import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    from pixelseg.evaluation.results import SemanticSegmentationMetrics

__all__ = ["format_report", "metrics_dict", "write_outputs", "plot_confusion_matrix", "OUTPUT_FILES"]

OUTPUT_FILES = (
    "metrics.json",
    "dataset_metrics.csv",
    "class_metrics.csv",
    "image_metrics.csv",
    "image_class_iou.csv",
    "confusion_matrix.csv",
    "worst_images.csv",
    "confusion_matrix.png",
)

_POLICY_NOTE = {
    "omit": "nan_policy='omit': means over the classes that have a value (MATLAB, nan_policy='propagate', gives NaN "
    "when a class is absent)",
    "propagate": "nan_policy='propagate': as MATLAB, a class without a value makes the mean NaN",
}


def _table(frame: pd.DataFrame, index: bool) -> str:
    """A MATLAB-style table: header, underline, values with 4 decimals."""
    shown = frame.reset_index() if index else frame
    cells = [[str(c) for c in shown.columns]]
    for row in shown.itertuples(index=False):
        cells.append([_fmt(v) for v in row])
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = ["    " + "    ".join(c.rjust(w) for c, w in zip(cells[0], widths))]
    lines.append("    " + "    ".join("_" * w for w in widths))
    lines.append("")
    for r in cells[1:]:
        lines.append("    " + "    ".join(c.rjust(w) for c, w in zip(r, widths)))
    return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "NaN" if math.isnan(v) else f"{v:.4f}"
    return str(v)


def format_report(m: SemanticSegmentationMetrics) -> str:
    """The report text: what was evaluated, the conventions, data set and class tables."""
    absent = m.absent_classes()
    lines = [
        "Semantic segmentation metrics (MATLAB evaluateSemanticSegmentation definitions)",
        f"* {m.num_images} {m.unit}(s), {m.num_classes} classes; void pixels of the ground truth left out.",
        "* Data set metrics use one confusion matrix summed over all images (IoU = summed intersections / "
        "summed unions).",
        f"* {_POLICY_NOTE[m.nan_policy]}.",
    ]
    fg = m.foreground_metrics
    if fg is not None:
        lines.insert(1, f"Foreground class {fg['class']!r}: IoU {_fmt(fg['iou'])}, F1 (Dice) {_fmt(fg['dice'])}, "
                        f"precision {_fmt(fg['precision'])}, recall {_fmt(fg['recall'])}")
    if "bf_score" in m.metrics:
        lines.append("* BF score: boundary F1 per class per image, tolerance 0.75 % of the image diagonal; "
                     "means leave NaN (class absent from both) out.")
    if absent["absent"]:
        lines.append(f"* Absent from truth and prediction (IoU NaN): {', '.join(absent['absent'])}.")
    only_pred = [n for n in absent["no_truth"] if n not in absent["absent"]]
    if only_pred:
        lines.append(f"* No ground-truth pixels (accuracy NaN): {', '.join(only_pred)}.")
    lines += ["", "Data set metrics:", "", _table(m.dataset_metrics, index=False), "", "Class metrics:", "",
              _table(m.class_metrics, index=True), ""]
    if "iou" in m.metrics and m.num_images > 1:
        lines += [f"Class IoU at two levels (the data set; each {m.unit} alone, then averaged over the {m.unit}s, "
                  f"a class absent from the {m.unit} left out):", "", _table(_iou_levels(m), index=True), "",
                  f"Mean over {m.unit}s of each {m.unit}'s mean IoU: {_fmt(float(m.image_metrics['mean_iou'].mean()))}"
                  f" (data set mean IoU above: {_fmt(float(m.dataset_metrics['mean_iou'][0]))}).", ""]
    return "\n".join(lines)


def _iou_levels(m: SemanticSegmentationMetrics) -> pd.DataFrame:
    return pd.DataFrame({"iou_data_set": m.class_iou, f"mean_{m.unit}_iou": m.class_image_mean_iou},
                        index=pd.Index(list(m.class_names), name="class"))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def metrics_dict(m: SemanticSegmentationMetrics, worst: int = 10) -> dict:
    """A JSON-ready dict of every result (NaN written as null)."""
    worst_table = m.worst_images(worst)
    return _jsonable({
        "definitions": "MATLAB evaluateSemanticSegmentation (Csurka et al., BMVC 2013); see pixelseg.evaluation",
        "nan_policy": m.nan_policy,
        "nan_policy_note": _POLICY_NOTE[m.nan_policy],
        "num_images": m.num_images,
        "class_names": list(m.class_names),
        "metrics": list(m.metrics),
        "dataset_metrics": m.dataset_metrics.iloc[0].to_dict(),
        "class_metrics": {c: row.to_dict() for c, row in m.class_metrics.iterrows()},
        "per_image_level": {
            "note": f"each {m.unit} scored alone, then averaged over the {m.unit}s (NaN left out); the metrics above "
                    "use one confusion matrix over all of them",
            "class_mean_iou": dict(zip(m.class_names, m.class_image_mean_iou)),
            "mean_of_image_mean_iou": float(m.image_metrics["mean_iou"].mean()) if "iou" in m.metrics else None,
        },
        "absent_classes": m.absent_classes(),
        "foreground": m.foreground_metrics,
        "confusion_matrix": m.confusion.tolist(),
        "worst_images_by_mean_iou": [
            {"image": str(name), **row.to_dict()} for name, row in worst_table.iterrows()
        ],
    })


def plot_confusion_matrix(m: SemanticSegmentationMetrics, path: Path, overwrite: bool = False) -> Path:
    """Write the row-normalised confusion matrix as a labelled PNG (matplotlib's Agg canvas).

    Rows are the true classes, columns the predicted ones; each cell shows the share of the
    row's true pixels (in %) when there are at most 25 classes.
    """
    from matplotlib.figure import Figure  # no pyplot: the Agg canvas, no global backend change

    norm = m.normalized_confusion_matrix.to_numpy()
    k = m.num_classes
    longest = max((len(n) for n in m.class_names), default=1)
    side = min(4.0 + 0.45 * k + 0.07 * longest, 40.0)
    fig = Figure(figsize=(side + 1.5, side), dpi=100)
    ax = fig.add_subplot()
    image = ax.imshow(np.nan_to_num(norm, nan=0.0), cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class's pixels")
    font = 9 if k <= 60 else 7  # the figure grows with K (about 0.45 inch per class)
    ax.set_xticks(range(k), labels=list(m.class_names), rotation=45, ha="right", rotation_mode="anchor", fontsize=font)
    ax.set_yticks(range(k), labels=list(m.class_names), fontsize=font)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"Normalised confusion matrix ({m.num_images} {m.unit}(s); rows sum to 1)")
    if k <= 25:
        for i in range(k):
            for j in range(k):
                v = norm[i, j]
                if not np.isnan(v) and (v >= 0.005 or i == j):
                    ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=max(5, font - 1),
                            color="white" if v > 0.5 else "black")
    fig.tight_layout()
    with atomic_write(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format="png")
    return path


def write_outputs(m: SemanticSegmentationMetrics, out_dir: Path, overwrite: bool = False, worst: int = 10) -> list[Path]:
    """Write every file of :data:`OUTPUT_FILES` into ``out_dir`` atomically (see
    :meth:`SemanticSegmentationMetrics.write`)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir} exists and is not a folder")
    paths = [out_dir / name for name in OUTPUT_FILES]
    if not overwrite:
        existing = [str(p) for p in paths if p.exists()]
        if existing:
            raise FileExistsError(f"{', '.join(existing)} exist(s); pass overwrite=True (--overwrite on the command line) to replace")
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(metrics_dict(m, worst), indent=2, allow_nan=False)
    with atomic_write(paths[0], overwrite) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    tables = (
        (m.dataset_metrics, False),
        (m.class_metrics, True),
        (m.image_metrics, True),
        (m.image_class_iou, True),
        (m.confusion_matrix, True),
        (m.worst_images(worst), True),
    )
    for path, (frame, index) in zip(paths[1:-1], tables):
        with atomic_write(path, overwrite) as tmp:
            frame.to_csv(tmp, index=index, float_format="%.6g")
    plot_confusion_matrix(m, paths[-1], overwrite)
    return paths
