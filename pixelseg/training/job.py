"""A training run from one YAML file: data, classes, network, options -> a run folder.

This is what ``pixelseg train --config train.yaml`` runs. The file::

    data:
      root: data/camvid            # any layout pixelseg.data.detect_layout recognises, or:
      # train: {images: data/img/train, labels: data/lbl/train, label_suffix: ""}
      # validation: {images: data/img/val, labels: data/lbl/val}
      split: [0.8, 0.2]            # used when there is no validation split (seeded by options.seed)
      image_size: [360, 480]       # resize (labels nearest); null: native size
      augment: default             # Augmenter preset, or none
      crop_size: null              # random crops [h, w] for training
    classes: classes.json          # or {names: [...], label_ids: [...], colors: ..., void_ids: ...};
                                   # default: the class set of the data layout
    class_weights: median_frequency   # enet, inverse_frequency, uniform, none, or a list of K numbers
    network: {name: deeplabv3plus, backbone: efficientnet_lite0, weights: imagenet}
    options: {solver: adamw, initial_learn_rate: 0.002, max_epochs: 20, mini_batch_size: 8}

Relative paths are relative to the YAML file; ``options.output_dir`` is always the run
folder. Any field can be overridden with dotted
``key=value`` pairs (values parsed as YAML): ``options.max_epochs=3``,
``network.name=unet``, ``data.image_size=[96,128]``.

The run folder receives ``config.yaml`` (the resolved configuration), ``network.ckpt``
(``load_network``), ``training_log.csv``, ``training_progress.png``, ``checkpoints/`` and
``validation_metrics.json`` (dataset and per-class metrics of the final network on the
validation data).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pixelseg.errors import ConfigurationError, DataError

__all__ = ["TrainJob", "load_job", "apply_overrides", "run_train_job", "latest_checkpoint"]


class DataSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    root: Path | None = None
    train: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    split: list[float] = Field(default_factory=lambda: [0.8, 0.2])
    image_size: tuple[int, int] | None = None
    augment: str = "default"
    crop_size: tuple[int, int] | None = None


class TrainJob(BaseModel):
    """The content of ``train.yaml`` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    data: DataSection
    classes: Path | dict[str, Any] | None = None
    class_weights: str | list[float] | None = "median_frequency"
    network: dict[str, Any] = Field(default_factory=lambda: {"name": "deeplabv3plus", "backbone": "efficientnet_lite0",
                                                             "weights": "imagenet"})
    options: dict[str, Any] = Field(default_factory=dict)

    def resolved(self, base: Path) -> TrainJob:
        """A copy with relative paths made relative to ``base`` (the YAML's folder)."""
        data = self.data.model_copy()
        if data.root is not None and not data.root.is_absolute():
            data.root = base / data.root
        for part in ("train", "validation"):
            section = getattr(data, part)
            if section:
                setattr(data, part, {k: (str(base / v) if k in ("images", "labels") and not Path(v).is_absolute()
                                         else v) for k, v in section.items()})
        classes = self.classes
        if isinstance(classes, Path) and not classes.is_absolute():
            classes = base / classes
        network = dict(self.network)
        weights = network.get("weights")
        if isinstance(weights, str) and weights not in ("imagenet",) and not Path(weights).is_absolute():
            network["weights"] = str(base / weights)
        return self.model_copy(update={"data": data, "classes": classes, "network": network})


def apply_overrides(config: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings (values parsed as YAML) to a nested dict, in place.

    Raises:
        ConfigurationError: an override without ``=`` or an empty key.
    """
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"--set expects key=value (e.g. options.max_epochs=3), got {item!r}")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        node = config
        parts = key.strip().split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    return config


def load_job(path: str | Path, overrides: Sequence[str] = ()) -> TrainJob:
    """Read ``train.yaml``, apply overrides, validate.

    Raises:
        FileNotFoundError: no such file. ConfigurationError: bad YAML or fields (names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path} must hold a mapping with data, classes, network, options")
    apply_overrides(raw, overrides)
    try:
        job = TrainJob(**raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{path}: {problems}") from None
    from pixelseg.training.options import TrainingOptions

    try:
        TrainingOptions(**job.options)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: options: {exc}") from None
    return job.resolved(path.parent.resolve())


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

    import torch

    run = Path(run)
    folder = run / "checkpoints" if (run / "checkpoints").is_dir() else run
    ranked = []
    for path in sorted(folder.glob("*.ckpt")) if folder.is_dir() else []:
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception as exc:  # noqa: BLE001 - a truncated file: fall back to the previous one
            warnings.warn(f"skipping unreadable checkpoint {path}: {exc}", UserWarning, stacklevel=2)
            continue
        step = int(checkpoint.get("global_step", -1)) if isinstance(checkpoint, dict) else -1
        epoch = int(checkpoint.get("epoch", -1)) if isinstance(checkpoint, dict) else -1
        ranked.append(((step, epoch, path.stat().st_mtime), path))
    if not ranked:
        raise FileNotFoundError(f"{folder} holds no readable checkpoint to resume from")
    return max(ranked)[1]


def _class_set(job: TrainJob, default):
    from pixelseg.data import ClassSet

    if job.classes is None:
        if default is None:
            raise ConfigurationError("the data layout defines no classes: give 'classes' (a file or names) in the config")
        return default
    if isinstance(job.classes, dict):
        try:
            return ClassSet(**job.classes)
        except TypeError as exc:
            raise ConfigurationError(f"classes: {exc}") from None
    return ClassSet.load(job.classes)


def _datasets(job: TrainJob, seed: int):
    """(train PairedDatastore, validation PairedDatastore or None, ClassSet)."""
    from pixelseg.data import ImageDatastore, PixelLabelDatastore, combine, partition

    data = job.data
    if data.root is not None:
        from pixelseg.data import detect_layout

        layout = detect_layout(data.root)
        class_set = _class_set(job, layout.class_set)
        splits = layout.open(class_set)
        train = splits.get("train", splits.get("all"))
        validation = splits.get("val", splits.get("validation"))
        if train is None:
            raise DataError(f"{data.root}: the {layout.name} layout has no train split (found {sorted(splits)})")
    elif data.train:
        class_set = _class_set(job, None)

        def paired(section: dict[str, Any], role: str):
            if "images" not in section or "labels" not in section:
                raise ConfigurationError(f"data.{role} needs 'images' and 'labels' folders, got {sorted(section)}")
            return combine(ImageDatastore(section["images"]), PixelLabelDatastore(section["labels"], class_set),
                           label_suffix=section.get("label_suffix", ""))

        train = paired(data.train, "train")
        validation = paired(data.validation, "validation") if data.validation else None
    else:
        raise ConfigurationError("data needs either 'root' (a dataset folder) or 'train' (images and labels folders)")
    if validation is None:
        if len(data.split) != 2:
            raise ConfigurationError(f"data.split must be two fractions [train, validation], got {data.split}")
        train, validation = partition(train, tuple(data.split), seed=seed)
    return train, validation, class_set


def _views(train, validation, data: DataSection, seed: int):
    from pixelseg.data import Resize

    if data.image_size is not None:
        train = train.transform(Resize(tuple(data.image_size)))
        validation = validation.transform(Resize(tuple(data.image_size)))
    train = train.as_tensors()
    if data.augment != "none" or data.crop_size is not None:
        from pixelseg.data import Augmenter

        preset = "default" if data.augment == "none" else data.augment
        train = train.transform(Augmenter(preset, crop_size=data.crop_size, seed=seed))
    return train, validation.as_tensors()


def _class_weights(job: TrainJob, train, class_set):
    spec = job.class_weights
    if spec is None or spec == "none":
        return None
    if isinstance(spec, list):
        return spec
    from pixelseg.data import class_weights, count_each_label

    return class_weights(count_each_label(train.labels), method=spec)


def validation_metrics(network, validation, class_set, batch_size: int = 4) -> dict[str, Any]:
    """Dataset metrics and per-class IoU/accuracy of ``network`` on a tensor dataset."""
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


def run_train_job(job: TrainJob, output: str | Path, overwrite: bool = False,
                  echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Train as the job says and fill the run folder ``output``; returns the validation metrics.

    Raises:
        ConfigurationError: ``output`` is a non-empty folder and ``overwrite`` is False; bad
            classes, network or options.
        DataError: bad data (see ``train_network``).
    """
    from pixelseg.models import create_network
    from pixelseg.training.options import TrainingOptions
    from pixelseg.training.train import train_network
    from pixelseg.utils.atomic import atomic_write

    out = Path(output)
    if out.exists() and not out.is_dir():
        raise ConfigurationError(f"output {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigurationError(f"output folder {out} is not empty; choose a new one or pass --overwrite")
    out.mkdir(parents=True, exist_ok=True)

    # The run folder is the output_dir of the options (the logs, plot and checkpoints go there).
    options = TrainingOptions(**{"plots": "training-progress", **job.options, "output_dir": str(out)})
    seed = options.seed or 0
    train, validation, class_set = _datasets(job, seed)
    echo(f"data: train {len(train)} pairs, validation {len(validation)} pairs, {class_set.num_classes} classes")
    weights = _class_weights(job, train, class_set)
    network_args = {k: v for k, v in job.network.items() if k != "num_classes"}
    if "name" not in network_args:
        raise ConfigurationError("network needs a 'name' (see pixelseg.models.list_networks())")
    net = create_network(num_classes=class_set.num_classes, **network_args)
    train_view, validation_view = _views(train, validation, job.data, seed)

    resolved = job.model_dump(mode="json")
    resolved["options"] = options.to_dict()
    with atomic_write(out / "config.yaml", overwrite=True) as tmp:
        tmp.write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")

    trained = train_network(train_view, net, options, validation_data=validation_view, class_weights=weights,
                            class_set=class_set)
    trained.save(out / "network.ckpt", overwrite=True)
    metrics = validation_metrics(trained.network, validation_view, class_set, batch_size=options.mini_batch_size)
    with atomic_write(out / "validation_metrics.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    dataset = metrics["dataset_metrics"]
    echo("validation: " + ", ".join(f"{k} {v:.4f}" for k, v in dataset.items()))
    echo(f"run folder: {out.resolve()}")
    return metrics

