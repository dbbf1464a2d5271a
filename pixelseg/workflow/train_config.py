"""The description of a training run, as ``train.yaml`` holds it (``pixelseg train --config``).

The file::

    data:                          # the data: block of pixelseg.data.spec (pixelseg info prints it)
      root: data/camvid            # a dataset folder, or train/validation folders:
      # train: {images: data/img/train, labels: data/lbl/train, label_suffix: ""}
      # validation: {images: data/img/val, labels: data/lbl/val}
      layout: null                 # a layout name and its options; null: detected
      split: [0.8, 0.2]            # used when there is no validation split (seeded by options.seed)
      image_size: [360, 480]       # resize (labels nearest), [H, W] or "360x480"; null: native size
      augment: default             # Augmenter preset, or none
      crop_size: null              # random crops [h, w] for training
      tolerance: 0                 # label reading: tolerance, threshold, palette, alpha_void, ...
    classes: classes.json          # or {names: [...], label_ids: [...], colors: ..., void_ids: ...};
                                   # default: the class set of the data layout
    class_weights: median_frequency   # enet, inverse_frequency, uniform, none, or a list of K numbers
    network: {name: deeplabv3plus, backbone: efficientnet_lite0, weights: imagenet}
    options: {solver: adamw, initial_learn_rate: 0.002, max_epochs: 20, mini_batch_size: 8}
    init_from: null                # a pixelseg network (.ckpt) to start from (fine-tuning); its
                                   # architecture replaces `network`, its classes must match
    # options.distillation_teacher: a network file or shipped name to distil from (its path,
    # when it exists beside the YAML, is relative to the YAML too)

Relative paths are relative to the YAML file; ``options.output_dir`` is always the run
folder. ``pixelseg train --print-config [train.yaml]`` prints the file with every default
filled in (:func:`config_text`; without a file, the defaults, ``data.root`` empty); fed back
with ``--config`` it gives the same run. Any field can be overridden with dotted ``key=value`` pairs (values parsed as YAML):
``options.max_epochs=3``, ``network.name=unet``, ``data.image_size=[96,128]``.
:mod:`pixelseg.workflow.train` runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pixelseg.conventions import means_no_weights
from pixelseg.data.spec import DataSpec
from pixelseg.errors import ConfigurationError
from pixelseg.utils.schema import describe_validation_error
from pixelseg.utils.yamlfile import load_yaml

__all__ = ["TrainJob", "load_job", "apply_overrides", "resolved_config", "config_text"]


class TrainJob(BaseModel):
    """The content of ``train.yaml`` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    data: DataSpec
    classes: Path | dict[str, Any] | None = None
    class_weights: str | list[float] | None = "median_frequency"
    network: dict[str, Any] = Field(default_factory=lambda: {"name": "deeplabv3plus", "backbone": "efficientnet_lite0",
                                                             "weights": "imagenet"})
    options: dict[str, Any] = Field(default_factory=dict)
    init_from: Path | None = None

    def training_options(self, run_folder: str | Path):
        """The ``TrainingOptions`` of the run into ``run_folder`` (its ``output_dir``; the
        progress plot is on unless ``options.plots`` says otherwise).

        Raises:
            ConfigurationError: a bad option (names the field and the value).
        """
        from pixelseg.training.options import TrainingOptions

        return TrainingOptions(**{"plots": "training-progress", **self.options, "output_dir": str(run_folder)})

    def resolved(self, base: Path) -> TrainJob:
        """A copy with relative paths made relative to ``base`` (the YAML's folder)."""
        data = self.data.resolved(base)
        classes = self.classes
        if isinstance(classes, Path) and not classes.is_absolute():
            classes = base / classes
        init_from = self.init_from
        if init_from is not None and not init_from.is_absolute():
            init_from = base / init_from
        network = dict(self.network)
        weights = network.get("weights")
        if isinstance(weights, str) and not means_no_weights(weights) and weights != "imagenet" \
                and not Path(weights).is_absolute():
            network["weights"] = str(base / weights)
        options = dict(self.options)
        teacher = options.get("distillation_teacher")
        if isinstance(teacher, str) and not Path(teacher).is_absolute() and (base / teacher).exists():
            options["distillation_teacher"] = str(base / teacher)  # else a shipped name, or missing: said at training
        return self.model_copy(update={"data": data, "classes": classes, "network": network, "init_from": init_from,
                                       "options": options})


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
    """Read ``train.yaml``, apply overrides, validate; relative paths become relative to the file.

    Raises:
        FileNotFoundError: no such file. ConfigurationError: bad YAML or fields (names the file).
    """
    path = Path(path)
    raw = load_yaml(path, "config")
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path} must hold a mapping with data, classes, network, options")
    apply_overrides(raw, overrides)
    try:
        job = TrainJob(**raw)
    except ValidationError as exc:
        raise ConfigurationError(f"{path}: {describe_validation_error(exc, TrainJob)}") from None
    try:
        job.training_options(path.parent)  # options.output_dir is the run folder, whatever the file says
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: options: {exc}") from None
    return job.resolved(path.parent.resolve())


def resolved_config(job: TrainJob, run_folder: str | Path | None = None) -> dict[str, Any]:
    """``job`` with every default filled in (every ``TrainingOptions`` field, the whole
    ``data:`` block), JSON/YAML-compatible (paths as strings), as ``config.yaml`` of a run holds
    it. ``options.output_dir`` is ``run_folder``, left out when None (it is always the run folder).

    Raises:
        ConfigurationError: a bad option (names the field and the value).
    """
    resolved = job.model_dump(mode="json")
    options = job.training_options(run_folder if run_folder is not None else ".").to_dict()
    if run_folder is None:
        options.pop("output_dir")
    resolved["options"] = options
    return resolved


def config_text(path: str | Path | None = None, overrides: Sequence[str] = ()) -> str:
    """The YAML of :func:`resolved_config` for the file ``path`` with ``overrides``
    (``pixelseg train --print-config``); without ``path``, of the defaults (``data.root``
    empty: a template to fill in).

    Raises:
        FileNotFoundError, ConfigurationError: see :func:`load_job`.
    """
    if path is not None:
        job = load_job(path, overrides)
    else:
        raw = apply_overrides(resolved_config(TrainJob(data=DataSpec())), overrides)
        try:
            job = TrainJob(**raw)
        except ValidationError as exc:
            raise ConfigurationError(describe_validation_error(exc, TrainJob)) from None
    return yaml.safe_dump(resolved_config(job), sort_keys=False)
