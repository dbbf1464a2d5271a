"""Training: ``TrainingOptions``, ``train_network`` on Lightning, checkpoints, progress plots.

MATLAB counterparts: ``trainingOptions`` -> :class:`TrainingOptions`, ``trainnet`` ->
:func:`train_network`, the training-progress plot -> :func:`plot_training_progress`.

Public names are imported lazily: ``pixelseg.training.options`` (pydantic only) and
``pixelseg.checkpoint`` load without Lightning, which only :func:`train_network` needs.
``TrainedNetwork`` and ``load_network`` live in :mod:`pixelseg.checkpoint`.
"""

from __future__ import annotations

from pixelseg.utils.lazy import lazy_exports

_EXPORTS = {
    "TrainingOptions": "pixelseg.training.options",
    "train_network": "pixelseg.training.train",
    "TrainedNetwork": "pixelseg.checkpoint",
    "load_network": "pixelseg.checkpoint",
    "plot_training_progress": "pixelseg.training.plots",
    "build_loss": "pixelseg.training.losses",
    "CrossEntropyLoss": "pixelseg.training.losses",
    "DiceLoss": "pixelseg.training.losses",
    "FocalLoss": "pixelseg.training.losses",
    "OhemCrossEntropyLoss": "pixelseg.training.losses",
    "WeightedSumLoss": "pixelseg.training.losses",
    "PixelwiseDistillationLoss": "pixelseg.training.distillation",
    "TrainingDivergedError": "pixelseg.training.faults",
    "TrainingOutOfMemoryError": "pixelseg.training.faults",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
