"""Training: ``TrainingOptions``, ``train_network`` on Lightning, checkpoints, progress plots.

MATLAB counterparts: ``trainingOptions`` -> :class:`TrainingOptions`, ``trainnet`` ->
:func:`train_network`, the training-progress plot -> :func:`plot_training_progress`.
"""

from pixelseg.checkpoint import TrainedNetwork, load_network
from pixelseg.training.faults import TrainingDivergedError, TrainingOutOfMemoryError
from pixelseg.training.losses import CrossEntropyLoss, DiceLoss, FocalLoss, WeightedSumLoss, build_loss
from pixelseg.training.options import TrainingOptions
from pixelseg.training.plots import plot_training_progress
from pixelseg.training.train import train_network

__all__ = [
    "TrainingOptions",
    "train_network",
    "TrainedNetwork",
    "load_network",
    "plot_training_progress",
    "build_loss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "WeightedSumLoss",
    "TrainingDivergedError",
    "TrainingOutOfMemoryError",
]
