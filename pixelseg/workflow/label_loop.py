"""``pixelseg train --resume-from-labels LABELS --images IMAGES --model NET.ckpt``: the
model-in-the-loop step of labeling.

Label some images in ``pixelseg label IMAGES --labels LABELS --model NET.ckpt``, fine-tune that
network on the labels saved so far within a few minutes (this job: the automatic recipe of
:mod:`pixelseg.workflow.auto_train`, starting from the network's weights), then pre-label the
rest with the new network (``pixelseg label ... --model RUN/network.ckpt``) and rank them by
its uncertainty ("Label next").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pixelseg.checkpoint import load_network
from pixelseg.conventions import VOID
from pixelseg.data import ClassSet, partition
from pixelseg.data.spec import DataSpec, FolderSpec
from pixelseg.data.spec import open_data as open_spec
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.duration import parse_duration
from pixelseg.workflow.auto_recipe import Choice
from pixelseg.workflow.auto_train import run_recipe
from pixelseg.workflow.train import TrainData, TrainRun

__all__ = ["run_label_loop", "labeler_classes"]

_log = logging.getLogger(__name__)


def labeler_classes(model: Path) -> ClassSet:
    """The class set of the labeler's files for ``model``'s classes: class i stored as index i
    (palette PNG), void 255, the network's colours.

    Raises:
        ConfigurationError: the network carries no class set.
    """
    classes = load_network(model).class_set
    if classes is None:
        raise ConfigurationError(f"{model}: the network has no class set; save it with its classes")
    return ClassSet(classes.names, label_ids=list(range(classes.num_classes)), colors=classes.colors,
                    void_ids=[VOID])


def run_label_loop(labels_dir: str | Path, images_dir: str | Path, model: str | Path, time_budget: str | float = "5m",
                   output: str | Path | None = None, overwrite: bool = False,
                   echo: Callable[[str], None] | None = None) -> TrainRun:
    """Fine-tune ``model`` on the images of ``images_dir`` that have a label in ``labels_dir``.

    Args:
        labels_dir: the labeler's labels folder (palette PNGs of class indices, 255 = void:
            unlabelled pixels are ignored by the loss).
        images_dir: the labeler's images folder; images without a label are left out.
        model: the network the labeler pre-labels with (``.ckpt``); its classes are the labels'.
        time_budget: wall time of the whole job (``"5m"``).
        output: the run folder (default ``runs/auto-<time>``); its ``network.ckpt`` is the new
            network. ``model`` itself is never overwritten.

    Returns:
        The :class:`~pixelseg.workflow.train.TrainRun`.

    Raises:
        DataError: fewer than 2 labelled images (one to train, one to check); unreadable labels.
        ConfigurationError: a bad budget; a budget too small; a network without classes.
    """
    started = time.perf_counter()
    echo = echo or _log.info
    budget = parse_duration(time_budget, "--time-budget")
    model, labels_dir, images_dir = (Path(p).resolve() for p in (model, labels_dir, images_dir))
    classes = labeler_classes(model)
    spec = DataSpec(train=FolderSpec(images=images_dir, labels=labels_dir), unpaired="ignore")
    pairs = open_spec(spec, classes).splits["train"]
    if len(pairs) < 2:
        raise DataError(f"{labels_dir}: {len(pairs)} labelled image(s) of {images_dir}; label at least 2 (one to "
                        "train on, one to check the network on)")
    train, validation = partition(pairs, (0.8, 0.2), seed=0)
    echo(f"data: {len(pairs)} labelled images of {images_dir}: train {len(train)}, validation {len(validation)}")
    found = [Choice("data", f"{len(pairs)} labelled images", "the labels saved so far; images without a label are "
                    "left out, unlabelled pixels ignored"),
             Choice("data.split", [0.8, 0.2], "20 % of the labelled images check the new network, seed 0")]
    return run_recipe(TrainData(train, validation, classes), spec, classes.to_dict(), budget, output, overwrite,
                      echo, started, choices=found, init_from=model,
                      header=f"pixelseg train --resume-from-labels {labels_dir} --model {model}")
