"""Experiment loggers of ``TrainingOptions.loggers``: names -> Lightning ``Logger`` objects.

=============== ========================================= =================================
name            writes                                    needs
=============== ========================================= =================================
``csv``         ``output_dir/csv/metrics.csv``            nothing (Lightning's CSVLogger)
``tensorboard`` ``output_dir/tensorboard/events.out...``  the ``tensorboard`` extra
``mlflow``      ``output_dir/mlruns`` (a file store)      the ``mlflow`` extra
=============== ========================================= =================================

A Lightning ``Logger`` object is used as given. The
:class:`~pixelseg.training.callbacks.history.HistoryRecorder` sends every history row to
them (``train/loss``, ``validation/mean_iou``... at the row's iteration); the options are
logged as hyperparameters. Nothing is automatic: TensorBoard writes only when asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pixelseg.errors import ConfigurationError
from pixelseg.training.options import LOGGER_NAMES
from pixelseg.utils.extras import require
from pixelseg.utils.schema import did_you_mean

__all__ = ["build_loggers"]


def build_loggers(specs: list[Any], output_dir: str | Path | None) -> list[Any]:
    """The Lightning loggers of ``specs`` (names of ``LOGGER_NAMES`` or ``Logger`` objects).

    Args:
        specs: ``TrainingOptions.loggers``.
        output_dir: the run folder under which the named loggers write.

    Raises:
        ConfigurationError: an unknown name (naming the nearest valid one), or a named logger
            without ``output_dir``.
        MissingExtraError: ``tensorboard`` or ``mlflow`` is not installed (one sentence with the
            ``pip install "pixelseg[...]"`` to run).
    """
    loggers = []
    for spec in specs:
        if not isinstance(spec, str):
            loggers.append(spec)
            continue
        if spec not in LOGGER_NAMES:
            raise ConfigurationError(f"unknown logger {spec!r}{did_you_mean(spec, LOGGER_NAMES)}; choose from "
                                     f"{', '.join(LOGGER_NAMES)}")
        if output_dir is None:
            raise ConfigurationError(f"the {spec} logger writes under output_dir; set output_dir")
        loggers.append(_named_logger(spec, Path(output_dir)))
    return loggers


def _named_logger(name: str, folder: Path):
    if name == "csv":
        from lightning.pytorch.loggers import CSVLogger

        return CSVLogger(save_dir=str(folder), name="csv", version="")
    if name == "tensorboard":
        require("tensorboard", "tensorboard", "the TensorBoard logger (loggers: [tensorboard])")
        from lightning.pytorch.loggers import TensorBoardLogger

        return TensorBoardLogger(save_dir=str(folder), name="tensorboard", version="", default_hp_metric=False)
    require("mlflow", "mlflow", "the MLflow logger (loggers: [mlflow])")
    from lightning.pytorch.loggers import MLFlowLogger

    return MLFlowLogger(experiment_name="pixelseg", tracking_uri=(folder / "mlruns").resolve().as_uri())
