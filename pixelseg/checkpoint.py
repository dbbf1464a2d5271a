"""``TrainedNetwork`` and the checkpoint format that ``load_network`` reads with no user code.

This module needs torch, pandas and pydantic only: reading a checkpoint never imports
Lightning (``TrainingOptions`` comes from :mod:`pixelseg.training.options`, plain pydantic
data, imported on demand).

A pixelseg checkpoint is a ``torch.save`` dict (Lightning's layout) with:

- ``state_dict``: the network weights under the prefix ``network.``;
- ``pixelseg``: plain data of the checkpoint's own: ``{"format": 1, "network_config":
  net.config, "class_set": ClassSet.to_dict() or None, "options": TrainingOptions.to_dict()
  or None, "normalization": {...}, "input_size": [H, W] or None, "history": {column: [values]}}``
  (the history as a dict of lists with the columns :data:`HISTORY_COLUMNS`; every file that
  training writes has it: ``TrainedNetwork.save`` files, the run's ``checkpoints/*.ckpt``,
  ``interrupted.ckpt`` and ``last-good.ckpt``);
- in run checkpoints also ``optimizer_states``, ``lr_schedulers``, ``loops``, ``callbacks``
  (the callbacks' resume state: patience counter, best weights), ``epoch`` and
  ``global_step``: what ``TrainingOptions(resume_from=...)`` needs to continue.

Checkpoints written before issue 14 kept the history only in the callback state of one
``TrainingRecorder`` callback; :func:`legacy_recorder_state` is the one place that reads that
layout.

Every value is a tensor, number, string, list or dict, so the files load with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from pixelseg.errors import ConfigurationError, DataError

__all__ = [
    "TrainedNetwork",
    "load_network",
    "read_checkpoint",
    "check_finite_network",
    "network_metadata",
    "history_data",
    "checkpoint_history",
    "legacy_recorder_state",
    "FORMAT_VERSION",
    "NORMALIZATION",
    "HISTORY_COLUMNS",
]

#: Columns of the training history (``TrainedNetwork.history``, ``training_log.csv``).
#: ``time_elapsed``: seconds of training up to the end of the row's iteration or validation
#: (MATLAB's "Time Elapsed"), counted on across resumes; NaN in histories written before it.
HISTORY_COLUMNS = ["iteration", "epoch", "phase", "loss", "global_accuracy", "mean_iou", "learn_rate", "time_elapsed"]
FORMAT_VERSION = 1
#: The ways ``TrainedNetwork.save`` stores parameters.
PRECISIONS = ("float32", "float16", "int8")
#: Suffix of the per-output-channel scale of a weight stored as int8.
_INT8_SCALE = ":int8_scale"
NORMALIZATION = {
    "input": "float32 N x C x H x W in [0, 1] (uint8 / 255)",
    "scale": 1.0 / 255.0,
    "normalized_inside_network": True,
}
_PREFIX = "network."
_LEGACY_RECORDER = "TrainingRecorder"  # see legacy_recorder_state


def network_metadata(network: nn.Module, class_set=None, options=None, input_size=None) -> dict[str, Any]:
    """The ``checkpoint["pixelseg"]`` entry for ``network``.

    Raises:
        ConfigurationError: the network has no ``.config`` dict (not built by
            ``pixelseg.models``), so it could not be rebuilt without user code.
    """
    config = getattr(network, "config", None)
    if not isinstance(config, dict) or "name" not in config:
        raise ConfigurationError(
            f"the network ({type(network).__name__}) has no .config dict with a 'name'; build it with "
            "pixelseg.models.create_network so that checkpoints can rebuild it"
        )
    return {
        "format": FORMAT_VERSION,
        "network_config": dict(config),
        "class_set": class_set.to_dict() if class_set is not None else None,
        "options": options.to_dict() if options is not None else None,
        "normalization": dict(NORMALIZATION),
        "input_size": list(input_size) if input_size is not None else None,
    }


@dataclass
class TrainedNetwork:
    """A trained network with what inference, evaluation and resuming need.

    Attributes:
        network: the ``SegmentationNetwork`` in eval mode (N x C x H x W float32 in [0, 1] ->
            N x K x H x W logits), on the CPU after training.
        class_set: the ``ClassSet`` of its outputs, or None.
        history: DataFrame with columns iteration, epoch, phase ("train" per iteration,
            "validation" per validation), loss, global_accuracy, mean_iou, learn_rate.
        options: the ``TrainingOptions`` of the run (None for a bare network).
        normalization: how inputs are scaled (networks normalise inside; callers pass [0, 1]).
        input_size: (H, W) of the training images, or None.
        inference_size: (H, W) that images are resized to before the network, as the train
            job resized them (``data.image_size``); None: each image at its own size.
            ``pixelseg predict`` uses it unless told otherwise.
        checkpoint: the checkpoint this object was loaded from or the run's last checkpoint.
    """

    network: nn.Module
    class_set: Any = None
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    options: Any = None
    normalization: dict[str, Any] = field(default_factory=lambda: dict(NORMALIZATION))
    input_size: tuple[int, int] | None = None
    inference_size: tuple[int, int] | None = None
    checkpoint: Path | None = None

    @property
    def num_classes(self) -> int:
        return int(self.network.num_classes)

    @property
    def in_channels(self) -> int:
        return int(getattr(self.network, "in_channels", 3))

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.network.config)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Logits N x K x H x W of images N x C x H x W float32 in [0, 1] (no gradient)."""
        with torch.inference_mode():
            return self.network(images)

    def save(self, path: str | os.PathLike, overwrite: bool = False, precision: str = "float32") -> Path:
        """Write the network, class set, options, normalisation and history to one file.

        The file is a pixelseg checkpoint without optimizer state (``load_network`` reads
        it; it cannot resume training: use the run's ``checkpoints/`` for that). Written
        atomically.

        Args:
            path: the file to write.
            overwrite: replace an existing file.
            precision: how the parameters are stored: ``"float32"`` (as trained),
                ``"float16"`` (half the size), or ``"int8"`` (a quarter: the weights of
                convolutions and linear layers as int8 with one float32 scale per output channel,
                symmetric, scale = max |w| / 127; the other parameters as float16; the shipped
                networks of :mod:`pixelseg.pretrained`). Buffers such as batch-norm running
                statistics stay float32. ``load_network`` reads every kind back as float32.

        Raises:
            FileExistsError: ``path`` exists and ``overwrite`` is False.
            ConfigurationError: the network has no ``.config``, or an unknown ``precision``.
        """
        from pixelseg.utils.atomic import atomic_write

        if precision not in PRECISIONS:
            raise ConfigurationError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")

        meta = network_metadata(self.network, self.class_set, self.options, self.input_size)
        meta["inference_size"] = list(self.inference_size) if self.inference_size is not None else None
        meta["history"] = history_data(self.history)
        state = {_PREFIX + k: v.detach().cpu() for k, v in self.network.state_dict().items()}
        if precision != "float32":
            for name, _ in self.network.named_parameters():
                state.update(_stored_parameter(_PREFIX + name, state[_PREFIX + name], precision))
        path = Path(path)
        with atomic_write(path, overwrite=overwrite) as tmp:
            torch.save({"pixelseg": meta, "state_dict": state}, tmp)
        return path


def load_network(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> TrainedNetwork:
    """Rebuild a :class:`TrainedNetwork` from a file of :meth:`TrainedNetwork.save`, a run
    checkpoint, or the name of a network shipped with pixelseg (``load_network("camvid")``).

    The network is built with ``pixelseg.models.create_network(**config)`` and given the
    saved weights; no user code is needed. A run checkpoint (``checkpoints/*.ckpt``) gives the
    weights of its iteration. A name that is not an existing path is looked up among the
    shipped networks (:mod:`pixelseg.pretrained`, listed by ``pixelseg models``); weights stored
    in half precision are read back as float32.

    Raises:
        FileNotFoundError: no such file, and no shipped network of that name (the message
            lists the shipped names).
        DataError: not a readable pixelseg checkpoint (one sentence naming the file; files
            holding Python objects besides tensors and plain data are never unpickled), its
            weights do not fit its configuration, or a weight or buffer (e.g. a batch-norm
            running variance) holds NaN or infinity (the message names the first one).
    """
    from pixelseg.pretrained import resolve_network

    path = resolve_network(path)
    if not path.is_file():
        raise FileNotFoundError(f"network file {path} is not a file")
    checkpoint = read_checkpoint(path, "network file", map_location=map_location)
    meta = checkpoint.get("pixelseg") if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict) or "network_config" not in meta:
        raise DataError(f"{path} is not a pixelseg network file (no 'pixelseg' entry with a network configuration)")
    network = build_network(meta["network_config"], source=str(path))
    state = _dequantized({k[len(_PREFIX):]: v for k, v in checkpoint.get("state_dict", {}).items()
                          if k.startswith(_PREFIX)})
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        raise DataError(f"the weights in {path} do not fit the network {meta['network_config']}: {exc}") from None
    check_finite_network(network, str(path))
    network.eval()

    class_set = None
    if meta.get("class_set") is not None:
        from pixelseg.data import ClassSet

        class_set = ClassSet.from_dict(meta["class_set"])
    options = None
    if meta.get("options") is not None:
        from pixelseg.training.options import TrainingOptions

        options = TrainingOptions(**meta["options"])
    history = checkpoint_history(checkpoint)
    size, inference = meta.get("input_size"), meta.get("inference_size")
    return TrainedNetwork(network=network, class_set=class_set, history=history, options=options,
                          normalization=dict(meta.get("normalization") or NORMALIZATION),
                          input_size=tuple(size) if size else None,
                          inference_size=tuple(inference) if inference else None, checkpoint=path)


def _stored_parameter(key: str, value: torch.Tensor, precision: str) -> dict[str, torch.Tensor]:
    """The state-dict entries that store one parameter at ``precision`` ("float16" or "int8")."""
    if not value.is_floating_point():
        return {key: value}
    if precision == "int8" and value.ndim >= 2:
        scale = value.abs().amax(dim=tuple(range(1, value.ndim)), keepdim=True).float() / 127.0
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        return {key: torch.round(value / scale).clamp(-127, 127).to(torch.int8), key + _INT8_SCALE: scale}
    return {key: value.half()}


def _dequantized(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with every int8 weight (and its scale) replaced by the float32 weight."""
    for scale_key in [k for k in state if k.endswith(_INT8_SCALE)]:
        key = scale_key[: -len(_INT8_SCALE)]
        if key in state:  # else load_state_dict names the unexpected key
            state[key] = state[key].float() * state.pop(scale_key).float()
    return state


def read_checkpoint(path: str | os.PathLike, role: str = "checkpoint", **load_args: Any) -> Any:
    """``torch.load(path, weights_only=True)`` with one sentence naming the file when it fails.

    Only tensors and plain data (numbers, strings, lists, dicts) are read: a file that holds
    other Python objects is refused, never unpickled (it could run code).

    Args:
        path: the file.
        role: what the file is to the caller, for the message (``"resume_from"``).
        load_args: more arguments of ``torch.load`` (``map_location``, ``mmap``).

    Raises:
        DataError: the file is cut short or damaged, is no PyTorch file, or holds objects
            other than tensors and plain data; the message names ``role`` and ``path``.
    """
    try:
        return torch.load(path, weights_only=True, **load_args)
    except Exception as exc:  # noqa: BLE001 - torch.load raises many kinds for bad files
        raise DataError(f"{role} {path} is not a readable pixelseg checkpoint: {_unreadable_reason(exc)}") from None


def _unreadable_reason(exc: Exception) -> str:
    """Why ``torch.load`` failed, in a few words (PyTorch's own message runs over many lines)."""
    text = str(exc)
    if "Unsupported global" in text:
        return ("it holds Python objects besides tensors and plain data, which pixelseg never loads "
                "(unpickling them could run code)")
    if isinstance(exc, EOFError) or "central directory" in text or "zip archive" in text or not text:
        return "the file is empty, cut short or damaged"
    return f"it is not a PyTorch checkpoint file ({type(exc).__name__})"


def check_finite_network(network: nn.Module | dict[str, torch.Tensor], source: str) -> None:
    """Refuse a network (or a state dict) whose weights or buffers hold NaN or infinity.

    Such a network (e.g. saved after a diverged training step: batch-norm running variances of
    ``inf``) gives NaN scores, and the argmax of NaN scores is class 0 everywhere: a silent
    wrong answer. One pass over the tensors, no copy.

    Args:
        network: an ``nn.Module`` (its ``state_dict()``: parameters and buffers) or a state dict.
        source: where it came from (a file name), for the message.

    Raises:
        DataError: naming ``source`` and the first tensor with a non-finite value, with the
            number of such values.
    """
    state = network.state_dict() if isinstance(network, nn.Module) else network
    with torch.no_grad():
        for name, tensor in state.items():
            if not torch.is_tensor(tensor) or not (tensor.is_floating_point() or tensor.is_complex()):
                continue
            finite = torch.isfinite(tensor)
            if not bool(finite.all()):
                raise DataError(
                    f"{source}: the network's tensor {name!r} holds {int((~finite).sum())} non-finite value(s) "
                    f"(NaN or infinity) of {tensor.numel()}, so it cannot give meaningful predictions (a diverged "
                    "training run? use a checkpoint from before the divergence)"
                )


def build_network(config: dict[str, Any], source: str = "<config>") -> nn.Module:
    """``pixelseg.models.create_network(**config)`` with an error naming the source."""
    from pixelseg.models import create_network

    config = dict(config)
    config.pop("weights", None)  # the saved state dict supplies the weights
    try:
        return create_network(**config)
    except (TypeError, ValueError) as exc:
        raise DataError(f"cannot rebuild the network of {source} from {config}: {exc}") from None


def history_data(history: pd.DataFrame | list[dict[str, Any]]) -> dict[str, list]:
    """The ``checkpoint["pixelseg"]["history"]`` entry: ``{column: [values]}`` of :data:`HISTORY_COLUMNS`.

    Args:
        history: a DataFrame with those columns, or a list of row dicts (rows of the recorder).

    Values are plain Python ints, floats and strings (loadable with ``weights_only=True``).
    """
    rows = history.to_dict(orient="records") if isinstance(history, pd.DataFrame) else history
    return {column: [_plain(row.get(column, math.nan)) for row in rows] for column in HISTORY_COLUMNS}


def checkpoint_history(checkpoint: dict[str, Any]) -> pd.DataFrame:
    """The training history of a loaded checkpoint dict, columns :data:`HISTORY_COLUMNS`.

    Read from ``checkpoint["pixelseg"]["history"]``; a run checkpoint written before issue 14
    has it in its legacy callback state instead (:func:`legacy_recorder_state`). No history:
    an empty DataFrame with those columns.
    """
    meta = checkpoint.get("pixelseg") or {}
    saved = meta.get("history")
    if saved:
        return pd.DataFrame(saved, columns=HISTORY_COLUMNS)
    legacy = legacy_recorder_state(checkpoint)
    rows = legacy.get("rows", []) if legacy is not None else []
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def legacy_recorder_state(checkpoint: dict[str, Any]) -> dict[str, Any] | None:
    """The callback state of a run checkpoint written before issue 14, or None.

    Until then one Lightning callback, ``TrainingRecorder``, kept the history and the
    validation state, and Lightning stored them under its class name in
    ``checkpoint["callbacks"]``: ``{"rows": [row dicts], "best_loss", "best_metric",
    "bad_validations", "best_state" (weights or None), "best_iteration"}``. This is the only
    place that knows that layout; ``tests/fixtures/old_run_checkpoint.ckpt`` is such a file.
    """
    state = (checkpoint.get("callbacks") or {}).get(_LEGACY_RECORDER)
    return state if isinstance(state, dict) else None


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (``weights_only`` loads plain types only)."""
    return value.item() if hasattr(value, "item") else value
