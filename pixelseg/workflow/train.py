"""The train job (``pixelseg train``): a :class:`~pixelseg.workflow.train_config.TrainJob` -> a run folder.

The run folder receives ``config.yaml`` (the resolved job), ``train_files.csv`` and
``validation_files.csv`` (the exact pairs: name, image, label), ``network.ckpt``
(``load_network``; it records ``data.image_size`` as the inference size), ``training_log.csv``, ``training_progress.png``, ``checkpoints/`` and
``validation_metrics.json`` (dataset and per-class metrics of the final network on the
validation data; ``validation_trained_on``: how many of its images were trained on too, 0
when the scores are held out).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pixelseg.checkpoint import TrainedNetwork, read_checkpoint
from pixelseg.data import ClassSet, PairedDatastore, Resize, class_weights, count_each_label, partition
from pixelseg.data.spec import DataSpec
from pixelseg.data.spec import open_data as open_spec
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.workflow._common import output_folder, run_folder
from pixelseg.workflow.train_config import TrainJob, load_job, resolved_config

__all__ = ["TrainData", "TrainRun", "open_data", "tensor_views", "job_network", "run_train_job", "run_train_config", "latest_checkpoint",
           "validation_metrics"]

_log = logging.getLogger(__name__)


@dataclass
class TrainData:
    """The data of a job, before resizing and augmentation: ``train`` and ``validation``
    PairedDatastores (H x W x 3 uint8 images, H x W uint8 labels) and their ClassSet."""

    train: PairedDatastore
    validation: PairedDatastore
    class_set: ClassSet

    @property
    def validation_trained_on(self) -> int:
        """How many validation images are trained on too (by image file); 0: validation is held out."""
        trained = {str(f) for f in self.train.images.files}
        return sum(str(f) in trained for f in self.validation.images.files)


@dataclass
class TrainRun:
    """What :func:`run_train_job` made: the run folder, the ``TrainedNetwork``, the data and
    the validation metrics (as written to ``validation_metrics.json``)."""

    output: Path
    trained: TrainedNetwork
    data: TrainData
    metrics: dict[str, Any]


def _seed(job: TrainJob) -> int:
    """The seed of the partition and the augmentation (``options.seed``; 0 for None)."""
    return job.training_options(".").seed or 0


def _class_set(job: TrainJob) -> ClassSet | None:
    """The job's ``classes`` (a file or a mapping of ClassSet arguments); None: the layout's."""
    if job.classes is None:
        return None
    if isinstance(job.classes, dict):  # either schema of ClassSet.from_dict
        try:
            return ClassSet.from_dict(job.classes)
        except ConfigurationError as exc:
            raise ConfigurationError(f"classes: {exc}") from None
    return ClassSet.load(job.classes)


def open_data(job: TrainJob) -> TrainData:
    """The job's train and validation pairs (:func:`pixelseg.data.spec.open_data` of
    ``job.data``; trained on: the train split, or ``data.train_splits`` concatenated); without
    a validation split, ``data.split`` of the train pairs (seeded by ``options.seed``).

    Raises:
        DataError: a missing or empty folder, no train split, unpaired files.
        ConfigurationError: no classes, bad ``data`` fields.
    """
    opened = open_spec(job.data, _class_set(job))
    if job.data.train_splits:
        train = opened.joined(job.data.train_splits)
    else:
        train = opened.splits.get("train", opened.splits.get("all"))
    if train is None:
        where = job.data.root if job.data.root is not None else "data"
        raise DataError(f"{where}: the {opened.layout} layout has no train split (found {sorted(opened.splits)})")
    validation = opened.validation
    if validation is None:
        train, validation = partition(train, tuple(job.data.split), seed=_seed(job))
    return TrainData(train, validation, opened.class_set)


def tensor_views(data: TrainData, section: DataSpec, seed: int) -> tuple[PairedDatastore, PairedDatastore]:
    """Tensor views: train resized and augmented, validation resized."""
    train, validation = data.train, data.validation
    if section.image_size is not None:
        train = train.transform(Resize(tuple(section.image_size)))
        validation = validation.transform(Resize(tuple(section.image_size)))
    train = train.as_tensors()
    if section.augment != "none" or section.crop_size is not None:
        from pixelseg.data import Augmenter

        preset = "default" if section.augment == "none" else section.augment
        train = train.transform(Augmenter(preset, crop_size=section.crop_size, seed=seed))
    return train, validation.as_tensors()


def _class_weights(job: TrainJob, train: PairedDatastore, echo: Callable[[str], None]):
    spec = job.class_weights
    if spec is None or spec == "none":
        return None
    if isinstance(spec, list):
        return spec
    table = count_each_label(train)  # inside the regions of interest, when the data has some
    weights = class_weights(table, method=spec)
    table["weight"] = weights
    echo(f"class statistics (count_each_label) and {spec} weights:")
    echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return weights


def validation_metrics(network, validation, class_set, batch_size: int = 4) -> dict[str, Any]:
    """Dataset metrics, per-class IoU/accuracy and the confusion matrix (rows truth) of
    ``network`` on a tensor dataset of (3 x H x W float32, H x W int64) pairs."""
    import torch

    from pixelseg.evaluation import ConfusionMatrixAccumulator, class_accuracy, class_iou

    accumulator = ConfusionMatrixAccumulator(int(network.num_classes))
    loader = torch.utils.data.DataLoader(validation, batch_size=batch_size)
    network.eval()
    with torch.inference_mode():
        for images, labels in loader:
            accumulator.update(network(images).argmax(1), labels)
    cm = accumulator.confusion_matrix
    names = list(class_set.names) if class_set is not None else [str(i) for i in range(len(cm))]

    def clean(values):
        return [None if v != v else float(v) for v in values]

    return {"dataset_metrics": accumulator.compute(),
            "class_metrics": {"name": names, "accuracy": clean(class_accuracy(cm)), "iou": clean(class_iou(cm))},
            "confusion_matrix": cm.tolist()}


def run_train_job(job: TrainJob, output: str | Path, overwrite: bool = False, echo: Callable[[str], None] = _log.info,
                  data: TrainData | None = None, score: bool = True) -> TrainRun:
    """Train as ``job`` says and fill the run folder ``output``.

    Args:
        job: the run's description (:func:`~pixelseg.workflow.train_config.load_job`).
        output: the run folder; must be new or empty unless ``overwrite``.
        overwrite: allow a non-empty run folder.
        echo: receives progress lines (data, class weights, network, validation metrics);
            default: the ``pixelseg.workflow.train`` logger (INFO).
        data: the job's data when the caller opened it already (:func:`open_data`).
        score: score the final network on the validation data into
            ``validation_metrics.json`` (False: the caller evaluates it itself).

    Raises:
        ConfigurationError: ``output`` is a file or a non-empty folder and ``overwrite`` is
            False; bad classes, network or options.
        DataError: bad data (see ``open_data`` and ``train_network``).

    With ``options.seed`` set, Python, NumPy and torch are seeded before the network is built,
    so one seed gives one loss curve. A run that fails before its first checkpoint leaves the
    folder as it found it (what it wrote is removed; nothing else is touched).
    """
    created = not Path(output).exists()
    out = output_folder(output, "--output", empty=True, overwrite=overwrite)
    before = set(out.iterdir())
    try:
        return _run(job, out, echo, data, score)
    except BaseException:
        _remove_failed_start(out, before, created)
        raise


def _remove_failed_start(out: Path, before: set[Path], created: bool) -> None:
    """Remove what a run that failed before its first checkpoint wrote into ``out`` (its
    ``config.yaml``, logs), so that the retry is not refused as "not empty"; files that were
    there before are never touched, and a run with a checkpoint to resume from is kept."""
    import shutil

    checkpoints = out / "checkpoints"
    if checkpoints.is_dir() and any(checkpoints.glob("*.ckpt")):
        return
    for path in set(out.iterdir()) - before:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if created and not any(out.iterdir()):
        out.rmdir()


def _write_file_lists(out: Path, data: TrainData) -> None:
    """``train_files.csv`` and ``validation_files.csv``: the exact pairs of the run (name,
    image file, label file, and region mask file when the data has regions), written atomically."""
    import pandas as pd

    from pixelseg.utils.atomic import atomic_write

    for role, ds in (("train", data.train), ("validation", data.validation)):
        table = pd.DataFrame({"name": ds.names, "image": [str(f) for f in ds.images.files],
                              "label": [str(f) for f in ds.labels.files]})
        if ds.region_files is not None:
            table["region"] = ["" if f is None else str(f) for f in ds.region_files]
        with atomic_write(out / f"{role}_files.csv", overwrite=True) as tmp:
            table.to_csv(tmp, index=False)


def _run(job: TrainJob, out: Path, echo: Callable[[str], None], data: TrainData | None, score: bool) -> TrainRun:
    from lightning.pytorch import seed_everything

    from pixelseg.training import train_network
    from pixelseg.utils.atomic import atomic_write

    options = job.training_options(out)  # the logs, plot and checkpoints go into the run folder
    if options.seed is not None:  # before anything random: the network's initial weights too
        seed_everything(options.seed, workers=True, verbose=False)
    data = data or open_data(job)
    echo(f"data: train {len(data.train)} pairs, validation {len(data.validation)} pairs, "
         f"{data.class_set.num_classes} classes")
    shared = data.validation_trained_on
    if shared:
        echo(f"warning: {shared} of the {len(data.validation)} validation images are trained on too: the validation "
             "scores of this run are not held out")
    weights = _class_weights(job, data.train, echo)
    net, network_args = job_network(job, data.class_set)
    echo(f"network: {network_args} ({sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters)"
         + (f", starting from {job.init_from}" if job.init_from is not None else ""))
    train_view, validation_view = tensor_views(data, job.data, options.seed or 0)

    _write_file_lists(out, data)
    resolved = resolved_config(job, out)
    with atomic_write(out / "config.yaml", overwrite=True) as tmp:
        tmp.write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")

    trained = train_network(train_view, net, options, validation_data=validation_view, class_weights=weights,
                            class_set=data.class_set)
    trained.inference_size = tuple(job.data.image_size) if job.data.image_size is not None else None
    trained.save(out / "network.ckpt", overwrite=True)
    metrics: dict[str, Any] = {}
    if score:
        metrics = validation_metrics(trained.network, validation_view, data.class_set,
                                     batch_size=options.mini_batch_size)
        metrics["validation_trained_on"] = shared  # images also trained on: 0 for held-out scores
        with atomic_write(out / "validation_metrics.json", overwrite=True) as tmp:
            tmp.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        echo("validation: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics["dataset_metrics"].items()))
    echo(f"run folder: {out.resolve()}")
    return TrainRun(out, trained, data, metrics)


def job_network(job: TrainJob, class_set: ClassSet):
    """The network to train and its description: built from ``job.network``, or the network of
    ``job.init_from`` (its weights and architecture) when fine-tuning.

    Raises:
        ConfigurationError: no network name; an ``init_from`` network with another number of
            classes than the data (both named).
    """
    from pixelseg.checkpoint import load_network
    from pixelseg.models import create_network

    if job.init_from is not None:
        start = load_network(job.init_from)
        if start.num_classes != class_set.num_classes:
            raise ConfigurationError(
                f"init_from {job.init_from}: the network has {start.num_classes} classes, the data "
                f"{class_set.num_classes} ({class_set.names})"
            )
        return start.network.train(), {k: v for k, v in start.network.config.items() if k != "num_classes"}
    network_args = {k: v for k, v in job.network.items() if k != "num_classes"}
    if "name" not in network_args:
        raise ConfigurationError("network needs a 'name' (see pixelseg.models.list_networks())")
    return create_network(num_classes=class_set.num_classes, **network_args), network_args


def latest_checkpoint(run: str | Path) -> Path:
    """The furthest-trained readable checkpoint of a run: ``run`` is the run folder (its
    ``checkpoints/``) or a folder of ``*.ckpt`` files (a custom ``checkpoint_path``).

    Checkpoints are ranked by their training step (then epoch, then file time), so copies
    that lost their file times still resume from the right place. A file cut short by a
    kill is skipped (with a warning) in favour of the one before it.

    Raises:
        FileNotFoundError: no readable ``.ckpt`` in ``run/checkpoints`` or ``run``.
    """
    import warnings

    run = Path(run)
    folder = run / "checkpoints" if (run / "checkpoints").is_dir() else run
    ranked = []
    for path in sorted(folder.glob("*.ckpt")) if folder.is_dir() else []:
        try:
            checkpoint = read_checkpoint(path, "checkpoint", map_location="cpu", mmap=True)
        except DataError as exc:  # a truncated file: fall back to the previous one
            warnings.warn(f"skipping unreadable checkpoint: {exc}", UserWarning, stacklevel=2)
            continue
        step = int(checkpoint.get("global_step", -1)) if isinstance(checkpoint, dict) else -1
        epoch = int(checkpoint.get("epoch", -1)) if isinstance(checkpoint, dict) else -1
        ranked.append(((step, epoch, path.stat().st_mtime), path))
    if not ranked:
        raise FileNotFoundError(f"{folder} holds no readable checkpoint to resume from")
    return max(ranked)[1]


def run_train_config(config: str | Path, overrides: Sequence[str] = (), output: str | Path | None = None,
                     overwrite: bool = False, resume: str | Path | None = None,
                     echo: Callable[[str], None] = _log.info) -> TrainRun:
    """``pixelseg train``: load ``config`` with ``overrides`` and run it into ``output``.

    Args:
        config: the YAML file (:mod:`pixelseg.workflow.train_config`).
        overrides: ``key.sub=value`` strings.
        output: the run folder (default ``runs/train-<time>``, or the resumed run's own folder).
        overwrite: allow a non-empty run folder.
        resume: continue a stopped run: its run folder (its furthest-trained readable
            checkpoint), a folder of checkpoints, or one checkpoint file. Writing into the
            resumed run's own folder needs no ``overwrite``.
        echo: receives progress lines; default: the logger (INFO).

    Raises:
        FileNotFoundError: no config file, no readable checkpoint to resume from.
        ConfigurationError, DataError: see :func:`load_job` and :func:`run_train_job`.
    """
    own_run = None
    if resume is not None:
        resume = Path(resume)
        if resume.is_dir():
            resume = latest_checkpoint(resume)
            echo(f"resuming from {resume}")
        resume = resume.resolve()
        if resume.parent.name == "checkpoints":
            own_run = resume.parent.parent
            output = output or own_run
    job = load_job(config, overrides)
    if resume is not None:  # set after the YAML overrides: a path is not parsed as YAML
        job = job.model_copy(update={"options": {**job.options, "resume_from": str(resume)}})
    output = run_folder(output, "train")
    # Resuming writes into the run's own (non-empty) folder; any other folder is protected as usual.
    into_own_run = own_run is not None and output.resolve() == own_run
    return run_train_job(job, output, overwrite=overwrite or into_own_run, echo=echo)
