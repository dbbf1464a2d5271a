"""``TrainingOptions``: the settings of one training run (MATLAB ``trainingOptions``).

Names follow MATLAB's ``trainingOptions`` in snake_case (``InitialLearnRate`` ->
``initial_learn_rate``), with MATLAB's defaults where MATLAB has one. Every field is
validated when the object is built; a bad value raises
:class:`pixelseg.errors.ConfigurationError` naming the field and the value.

Source: MATLAB documentation, ``trainingOptions`` (Deep Learning Toolbox), R2024a.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator

from pixelseg.errors import ConfigurationError
from pixelseg.utils.schema import did_you_mean

__all__ = ["TrainingOptions", "LOSS_NAMES", "LOGGER_NAMES"]

LOSS_NAMES = ("cross-entropy", "dice", "focal", "ohem")
#: The experiment loggers ``loggers`` accepts by name (see :mod:`pixelseg.training.loggers`).
LOGGER_NAMES = ("csv", "tensorboard", "mlflow")

# MATLAB's default initial learning rate per solver.
_DEFAULT_LEARN_RATE = {"sgdm": 0.01, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.001}


class TrainingOptions(BaseModel):
    """Options of :func:`pixelseg.training.train_network` (MATLAB ``trainingOptions``).

    Solver and learning rate
        solver: ``"sgdm"`` (SGD with momentum, default), ``"adam"``, ``"adamw"``, ``"rmsprop"``.
        initial_learn_rate: default 0.01 for ``"sgdm"``, 0.001 otherwise (MATLAB's defaults).
        learn_rate_schedule: ``"none"`` (default), ``"piecewise"`` (multiply by
            ``learn_rate_drop_factor`` every ``learn_rate_drop_period`` epochs), ``"poly"``
            (``(1 - t/T) ** poly_power``, DeepLab), ``"cosine"`` (cosine decay to 0, SGDR
            without restarts). The schedule is evaluated every iteration.
        warmup_epochs: linear warm-up from 0 over this many epochs (may be fractional), then the
            schedule runs over the remaining iterations. Default 0.
        momentum: SGDM momentum (0.9); gradient_decay_factor (0.9) and
            squared_gradient_decay_factor (0.999 for Adam, 0.9 for RMSProp by MATLAB's
            default) and epsilon (1e-8) for Adam/AdamW/RMSProp.
        l2_regularization: weight decay (1e-4). AdamW applies it decoupled.
        gradient_threshold: clip gradients above this value (default None: no clipping), by
            ``gradient_threshold_method`` ``"l2norm"`` (each parameter tensor separately, MATLAB's
            default), ``"global-l2norm"`` (all gradients together) or ``"absolute-value"``.

    Data and duration
        max_epochs (30), mini_batch_size (128, MATLAB's default; segmentation usually wants
        2..16; in multi-process runs the global mini-batch, split evenly among the processes as
        in MATLAB), shuffle ``"once"`` (default), ``"every-epoch"``, ``"never"``. The last,
        partial mini-batch of an epoch is kept.
        num_workers: DataLoader worker processes (0: load in the main process); workers are
        persistent between epochs.

    Loss
        loss: ``"cross-entropy"`` (default, with the class weights of ``train_network``),
        ``"dice"``, ``"focal"``, ``"ohem"`` (cross-entropy over the hard pixels only: those
        whose true class has a probability under ``ohem_threshold``, 0.7, and at least the
        ``ohem_min_kept`` fraction, 1/16, of the labelled pixels), or a dict of weights such
        as ``{"cross-entropy": 1.0, "dice": 0.5}``; focal_gamma (2.0). Void (255) is ignored by all.
        distillation_teacher: a trained pixelseg network (file or shipped name such as
            ``"camvid"``) whose class probabilities the network also learns to match
            (knowledge distillation, :mod:`pixelseg.training.distillation`); None (default): off.
            It must predict the same classes. The loss gains ``distillation_weight`` (1.0) x
            ``T^2`` x the pixel-wise KL divergence at temperature ``distillation_temperature``
            (``T``, 1.0); the teacher sees each mini-batch resized by
            ``distillation_input_scale`` (1.0), e.g. 480/288 for a teacher trained at 360 x 480
            and a student trained at 216 x 288. Each step also runs the teacher forward. The
            training loss of the history includes the term; the validation loss does not.

    Validation and output
        validation_frequency: validate every this many iterations (50) and at the end.
        validation_patience: stop when the validation loss has not improved on its best for
            this many validations in a row (None, the default, is MATLAB's Inf: never).
        output_network: ``"last-iteration"`` (default), ``"best-validation-loss"`` or
            ``"best-validation-metric"`` (the best ``objective_metric``, ``"mean_iou"`` by
            default, or ``"global_accuracy"``).

        precise_batch_norm: recompute the batch-norm running statistics from this many random
            training mini-batches with the current weights before each validation and at the end
            (:mod:`pixelseg.training.precise_bn`): in short runs the moving averages lag the
            weights and eval-mode scores collapse. ``"auto"`` (default): 16 mini-batches when the
            run has at most 10,000 iterations, off in longer runs (with ``fit_to_max_time``,
            decided on ``max_epochs`` as given, before the refit); 0: off.

        max_time: stop training after this many seconds (validations included), wherever it
            is; None (default): no limit. The automatic recipe sets it from its time budget.
        fit_to_max_time: at the end of each epoch (until the last tenth of the schedule), set
            ``max_epochs`` to the most epochs whose steps and validations end within
            ``max_time``, at the step and validation times measured in this run (more epochs or
            fewer than given; the learning-rate schedule spans the new length; see
            :class:`pixelseg.training.callbacks.FitToMaxTime`). False (default). Needs
            ``max_time``. ``--time-budget`` sets it.

    Files
        output_dir: folder for ``training_log.csv``, ``training_progress.png`` and (by
            default) ``checkpoints/``. None (default): nothing is written.
        checkpoint_path: folder of checkpoints (default ``output_dir/checkpoints``).
        checkpoint_frequency (1) in checkpoint_frequency_unit ``"epoch"`` (default) or
            ``"iteration"``.
        keep_checkpoints: the periodic checkpoints kept, the most recent ones (2, >= 1); the
            folder also holds ``last.ckpt`` (a link to the latest, or a copy where links are
            not possible), ``best.ckpt`` with ``output_network="best-..."`` and the fault
            checkpoints.
        resume_from: a checkpoint written by a previous run; training continues from its
            epoch and iteration with its optimizer state, history and data order (mid-epoch
            too). With the same options the run is the one that was interrupted; with a larger
            max_epochs the learning-rate schedule is stretched to the new length.
        plots: ``"none"`` (default) or ``"training-progress"`` (a PNG updated at every
            validation and at the end; needs output_dir).
        loggers: experiment loggers receiving the history rows (``train/loss``,
            ``validation/mean_iou``...): ``"csv"`` (``output_dir/csv/metrics.csv``),
            ``"tensorboard"`` (``output_dir/tensorboard``; the ``tensorboard`` extra),
            ``"mlflow"`` (``output_dir/mlruns``; the ``mlflow`` extra) or Lightning ``Logger``
            objects. Default none (``training_log.csv`` is written either way).
        callbacks: extra Lightning callbacks, appended to pixelseg's own.
        Logger and callback objects are not written to files (``to_dict`` keeps the logger
        names only).

    Hardware and reproducibility
        execution_environment: ``"auto"`` (GPU when present), ``"cpu"``, ``"gpu"``,
            ``"multi-gpu"`` (DDP on all GPUs of ``num_nodes`` machines; see
            :func:`pixelseg.training.train_network` for torchrun and SLURM).
        devices: ``"auto"`` or a number of devices (processes) per machine; ``"cpu"`` with
            devices > 1 runs DDP on CPU processes (gloo).
        num_nodes: machines (1).
        precision: ``"32"`` (default), ``"16-mixed"``, ``"bf16-mixed"``.
        channels_last: run the network and inputs in channels-last memory format (True; faster
            for convolutions on CPU and on tensor-core GPUs).
        sync_batch_norm: convert batch norm to SyncBatchNorm in multi-GPU runs (True).
        seed: seeds Python, NumPy and torch, the shuffling and the workers (0; None: random).
        deterministic: use deterministic algorithms only (False). With the same seed, on
            CPU the loss curve is then identical from run to run.
        verbose: progress bars and a summary line per validation (True), logged at INFO on
            the ``pixelseg`` logger (a console handler is added when logging is not configured);
        verbose_frequency: iterations between transfers of the per-iteration values from the
            device to the history (50); ``training_log.csv`` is rewritten at every epoch end and
            validation.

    Raises:
        ConfigurationError: an unknown field, or a value that is not allowed (the message names
            the field and the value).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    # solver
    solver: Literal["sgdm", "adam", "adamw", "rmsprop"] = "sgdm"
    initial_learn_rate: float = Field(default=None, gt=0)  # type: ignore[assignment]  # filled per solver
    learn_rate_schedule: Literal["none", "piecewise", "poly", "cosine"] = "none"
    learn_rate_drop_factor: float = Field(default=0.1, ge=0, le=1)
    learn_rate_drop_period: int = Field(default=10, ge=1)
    poly_power: float = Field(default=0.9, gt=0)
    warmup_epochs: float = Field(default=0.0, ge=0)
    momentum: float = Field(default=0.9, ge=0, lt=1)
    gradient_decay_factor: float = Field(default=0.9, ge=0, lt=1)
    squared_gradient_decay_factor: float = Field(default=None, ge=0, lt=1)  # type: ignore[assignment]
    epsilon: float = Field(default=1e-8, gt=0)
    l2_regularization: float = Field(default=1e-4, ge=0)
    gradient_threshold: float | None = Field(default=None, gt=0)
    gradient_threshold_method: Literal["l2norm", "global-l2norm", "absolute-value"] = "l2norm"
    # data and duration
    max_epochs: int = Field(default=30, ge=1)
    mini_batch_size: int = Field(default=128, ge=1)
    shuffle: Literal["once", "every-epoch", "never"] = "once"
    num_workers: int = Field(default=0, ge=0)
    # loss
    loss: str | dict[str, float] = "cross-entropy"
    focal_gamma: float = Field(default=2.0, ge=0)
    ohem_threshold: float = Field(default=0.7, gt=0, le=1)
    ohem_min_kept: float = Field(default=1 / 16, gt=0, le=1)
    distillation_teacher: str | Path | None = None
    distillation_weight: float = Field(default=1.0, ge=0)
    distillation_temperature: float = Field(default=1.0, gt=0)
    distillation_input_scale: float = Field(default=1.0, gt=0)
    # validation and output
    validation_frequency: int = Field(default=50, ge=1)
    validation_patience: int | None = Field(default=None, ge=1)
    output_network: Literal["last-iteration", "best-validation-loss", "best-validation-metric"] = "last-iteration"
    objective_metric: Literal["mean_iou", "global_accuracy"] = "mean_iou"
    max_time: float | None = Field(default=None, gt=0)
    fit_to_max_time: bool = False
    precise_batch_norm: Annotated[int, Field(ge=0)] | Literal["auto"] = "auto"
    # files
    output_dir: Path | None = None
    checkpoint_path: Path | None = None
    checkpoint_frequency: int = Field(default=1, ge=1)
    checkpoint_frequency_unit: Literal["epoch", "iteration"] = "epoch"
    keep_checkpoints: int = Field(default=2, ge=1)
    resume_from: Path | None = None
    plots: Literal["none", "training-progress"] = "none"
    loggers: list[Any] = Field(default_factory=list)
    callbacks: list[Any] = Field(default_factory=list)
    # hardware and reproducibility
    execution_environment: Literal["auto", "cpu", "gpu", "multi-gpu"] = "auto"
    devices: int | Literal["auto"] = "auto"
    num_nodes: int = Field(default=1, ge=1)
    precision: Literal["32", "16-mixed", "bf16-mixed"] = "32"
    channels_last: bool = True
    sync_batch_norm: bool = True
    seed: int | None = 0
    deterministic: bool = False
    verbose: bool = True
    verbose_frequency: int = Field(default=50, ge=1)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigurationError(_describe(exc, "TrainingOptions")) from None

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            raise ConfigurationError(_describe(exc, "TrainingOptions")) from None

    # ---- validators -------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _solver_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            solver = data.get("solver", "sgdm")
            if data.get("initial_learn_rate") is None:
                data["initial_learn_rate"] = _DEFAULT_LEARN_RATE.get(solver, 0.01)
            if data.get("squared_gradient_decay_factor") is None:
                data["squared_gradient_decay_factor"] = 0.9 if solver == "rmsprop" else 0.999
            for key in ("validation_patience", "gradient_threshold"):
                if _is_infinite(data.get(key)):
                    data[key] = None  # MATLAB's Inf
            if isinstance(data.get("precision"), int):
                data["precision"] = str(data["precision"])
        return data

    @field_validator("loss")
    @classmethod
    def _check_loss(cls, value: str | dict[str, float]) -> str | dict[str, float]:
        names = [value] if isinstance(value, str) else list(value)
        unknown = [n for n in names if n not in LOSS_NAMES]
        if unknown:
            raise ValueError(f"unknown loss {unknown[0]!r}; choose from {', '.join(LOSS_NAMES)}")
        if isinstance(value, dict):
            if not value:
                raise ValueError("the loss dict is empty; give at least one of " + ", ".join(LOSS_NAMES))
            bad = {k: w for k, w in value.items() if not (math.isfinite(w) and w >= 0)}
            if bad or sum(value.values()) <= 0:
                raise ValueError(f"loss weights must be finite, >= 0 and not all 0, got {value}")
        return value

    @field_validator("loggers")
    @classmethod
    def _check_loggers(cls, value: list[Any]) -> list[Any]:
        for item in value:
            if isinstance(item, str):
                if item not in LOGGER_NAMES:
                    raise ValueError(f"unknown logger {item!r}{did_you_mean(item, LOGGER_NAMES)}; choose from "
                                     f"{', '.join(LOGGER_NAMES)} or give a Lightning Logger object")
            elif not callable(getattr(item, "log_metrics", None)):
                raise ValueError(f"a logger must be one of {', '.join(LOGGER_NAMES)} or a Lightning Logger object, "
                                 f"got {type(item).__name__}")
        return value

    @field_validator("callbacks")
    @classmethod
    def _check_callbacks(cls, value: list[Any]) -> list[Any]:
        for item in value:
            if isinstance(item, (str, bytes, dict, int, float)) or not hasattr(item, "on_train_start"):
                raise ValueError(f"callbacks must be Lightning Callback objects, got {type(item).__name__}")
        return value

    @field_serializer("loggers", "callbacks", when_used="json")
    def _names_only(self, value: list[Any]) -> list[str]:
        return [item for item in value if isinstance(item, str)]

    @field_validator("devices")
    @classmethod
    def _check_devices(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError(f"devices must be 'auto' or >= 1, got {value}")
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> TrainingOptions:
        if self.plots == "training-progress" and self.output_dir is None:
            raise ValueError("plots='training-progress' writes training_progress.png and needs output_dir")
        named = [item for item in self.loggers if isinstance(item, str)]
        if named and self.output_dir is None:
            raise ValueError(f"loggers {named} write files under output_dir; set output_dir")
        if self.fit_to_max_time and self.max_time is None:
            raise ValueError("fit_to_max_time=True fits the run to max_time; set max_time (seconds)")
        return self

    # ---- helpers ------------------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path | None:
        """Folder of checkpoints: ``checkpoint_path``, else ``output_dir/checkpoints``, else None."""
        if self.checkpoint_path is not None:
            return Path(self.checkpoint_path)
        if self.output_dir is not None:
            return Path(self.output_dir) / "checkpoints"
        return None

    def loss_weights(self) -> dict[str, float]:
        """The loss as a dict of term name -> weight."""
        return {self.loss: 1.0} if isinstance(self.loss, str) else dict(self.loss)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (paths as strings) that ``TrainingOptions(**d)`` reads back."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingOptions:
        """Build from a dict; a non-dict raises ConfigurationError."""
        if not isinstance(data, dict):
            raise ConfigurationError(f"TrainingOptions needs a mapping of field: value, got {type(data).__name__}")
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path, key: str | None = None) -> TrainingOptions:
        """Read options from a YAML file (the whole file, or the mapping under ``key``).

        Raises:
            FileNotFoundError: the file does not exist.
            ConfigurationError: bad YAML, no mapping, or a bad field (names the file).
        """
        from pixelseg.utils.yamlfile import load_yaml

        path = Path(path)
        data = load_yaml(path, "options")
        if key is not None:
            if not isinstance(data, dict) or key not in data:
                raise ConfigurationError(f"{path} has no {key!r} section")
            data = data[key] or {}
        if not isinstance(data, dict):
            raise ConfigurationError(f"{path} must hold a mapping of option: value, got {type(data).__name__}")
        try:
            return cls(**data)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{path}: {exc}") from None

    def to_yaml(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the options as YAML (atomically; FileExistsError unless ``overwrite``)."""
        import yaml

        from pixelseg.utils.atomic import atomic_write

        with atomic_write(path, overwrite=overwrite) as tmp:
            tmp.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False), encoding="utf-8")
        return Path(path)


def _is_infinite(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("inf", "infinity", "+inf")
    return isinstance(value, float) and math.isinf(value) and value > 0


def _describe(exc: ValidationError, owner: str) -> str:
    """One sentence per problem: field, offending value, what is allowed."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if not field:
            parts.append(message)
        elif error["type"] == "extra_forbidden":
            parts.append(f"unknown option {field!r} (see help(TrainingOptions) for the fields)")
        else:
            parts.append(f"{field}={error.get('input')!r}: {message}")
    return f"{owner}: " + "; ".join(parts)
