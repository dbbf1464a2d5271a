"""The training-progress figure (MATLAB's training-progress plot, as a PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["plot_training_progress"]

_PANELS = (("loss", "loss"), ("global_accuracy", "global accuracy"), ("mean_iou", "mean IoU"))


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or values.size < window:
        return values
    series = pd.Series(values)
    return series.rolling(window, min_periods=1).mean().to_numpy()


def plot_training_progress(history: pd.DataFrame, path: str | Path, overwrite: bool = False) -> Path:
    """Write a PNG of loss, global accuracy and mean IoU against iteration.

    Training values per iteration are drawn faint with a running mean on top; validation
    values as dots joined by a dashed line (as MATLAB's training-progress plot).

    Args:
        history: ``TrainedNetwork.history`` (columns iteration, epoch, phase, loss,
            global_accuracy, mean_iou, learn_rate).
        path: destination PNG; written atomically.
        overwrite: replace an existing file (training passes True to refresh its plot).

    Returns:
        The path written.

    Raises:
        ConfigurationError: ``history`` lacks one of the columns.
        FileExistsError: the file exists and ``overwrite`` is False.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from pixelseg.errors import ConfigurationError
    from pixelseg.utils.atomic import atomic_write

    needed = {"iteration", "phase", "loss", "global_accuracy", "mean_iou"}
    missing = needed - set(history.columns)
    if missing:
        raise ConfigurationError(f"plot_training_progress: history lacks the column(s) {sorted(missing)}")
    train = history[history["phase"] == "train"]
    validation = history[history["phase"] == "validation"]
    window = max(1, len(train) // 50)

    figure = Figure(figsize=(11, 3.4), dpi=100, layout="constrained")
    axes = figure.subplots(1, 3)
    for ax, (column, title) in zip(axes, _PANELS):
        if len(train):
            x = train["iteration"].to_numpy()
            y = train[column].to_numpy(dtype=float)
            ax.plot(x, y, color="tab:blue", alpha=0.25, linewidth=0.8)
            ax.plot(x, _smooth(y, window), color="tab:blue", linewidth=1.5, label="training")
        if len(validation):
            ax.plot(validation["iteration"], validation[column].astype(float), "o--", color="black",
                    markersize=3.5, linewidth=1, label="validation")
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.grid(True, alpha=0.3)
        if column != "loss":
            ax.set_ylim(0, 1)
    axes[0].legend(loc="upper right", fontsize="small")
    if "epoch" in history.columns and len(history):
        figure.suptitle(f"training progress: epoch {int(history['epoch'].max())}, iteration {int(history['iteration'].max())}",
                        fontsize="medium")
    path = Path(path)
    with atomic_write(path, overwrite=overwrite) as tmp:
        figure.savefig(tmp, format="png")
    return path
