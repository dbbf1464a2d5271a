"""The encoder interface and the loading of pretrained checkpoints by key name.

An encoder maps a normalised N x C x H x W float32 tensor to a list of feature maps, one per
stage, at strides 2, 4, 8, 16, 32 (``encoder_depth`` of them). With ``output_stride`` 16 or 8
the last stages keep their resolution and use dilated (atrous) convolutions instead, as in
DeepLab (Chen et al., ECCV 2018).

Module names follow the format of the checkpoints the weights come from (torchvision for VGG
and ResNet, lukemelas/EfficientNet-PyTorch for EfficientNet-Lite0), so a checkpoint loads by
key name with no renaming table to maintain.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from pixelseg.conventions import means_no_weights
from pixelseg.errors import ConfigurationError, DataError

_OPTIONAL_SUFFIX = ".num_batches_tracked"  # absent from checkpoints saved by torch < 0.4.1


class Encoder(nn.Module):
    """Base class of the encoders. Subclasses set the class attributes and build the layers.

    Args:
        in_channels: channels of the input image (3 for RGB; 1 for grey; any >= 1).
        depth: number of stages to build and return, 1..``max_depth``.
        output_stride: 32 (plain), or 16 / 8 (last stages dilated; see ``output_strides``).

    ``forward(x)`` takes x N x in_channels x H x W float32 (already normalised with ``mean``
    and ``std``; H and W multiples of ``required_multiple``) and returns a list of ``depth``
    tensors; tensor i has ``out_channels[i]`` channels and stride ``reductions[i]``.
    """

    name: ClassVar[str] = ""
    stage_channels: ClassVar[tuple[int, ...]] = ()
    mean: ClassVar[tuple[float, ...]] = (0.485, 0.456, 0.406)
    std: ClassVar[tuple[float, ...]] = (0.229, 0.224, 0.225)
    first_conv_key: ClassVar[str] = ""
    head_keys: ClassVar[tuple[str, ...]] = ()
    output_strides: ClassVar[tuple[int, ...]] = (32,)

    def __init__(self, in_channels: int = 3, depth: int = 5, output_stride: int = 32):
        super().__init__()
        check_int("in_channels", in_channels, minimum=1)
        max_depth = len(self.stage_channels)
        if not isinstance(depth, int) or isinstance(depth, bool) or not 1 <= depth <= max_depth:
            raise ConfigurationError(
                f"encoder_depth={depth!r} is not possible for the {self.name} encoder: allowed 1..{max_depth}"
            )
        if output_stride not in self.output_strides:
            raise ConfigurationError(
                f"output stride {output_stride!r} is not possible for the {self.name} encoder: "
                f"allowed {list(self.output_strides)}"
            )
        self.in_channels = in_channels
        self.depth = depth
        self.output_stride = output_stride

    @classmethod
    def bundled_path(cls) -> str | None:
        """Path of the ImageNet weights shipped with an installed package, or None."""
        return None

    @property
    def out_channels(self) -> tuple[int, ...]:
        """Channels of each returned feature map."""
        return self.stage_channels[: self.depth]

    @property
    def reductions(self) -> tuple[int, ...]:
        """Stride of each returned feature map relative to the input."""
        return tuple(min(2 ** (i + 1), self.output_stride) for i in range(self.depth))

    @property
    def required_multiple(self) -> int:
        """H and W of the input must be multiples of this (the stride of the coarsest features)."""
        return self.reductions[-1]

    def load_checkpoint(self, state_dict: Mapping[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
        """Load a full-architecture checkpoint (e.g. torchvision ``vgg16-397923af.pth``) by key name.

        Keys of stages not built (``depth`` < max) and of the classifier head (``head_keys``)
        are accepted and not loaded; the head tensors are returned (FCN converts them into
        convolutions). For ``in_channels`` != 3 the first convolution's RGB filters are
        averaged, repeated and scaled by 3 / in_channels, so that a grey image copied into
        every channel gives the activations the RGB filters give.

        Raises:
            ConfigurationError: a key missing from the checkpoint, a key the architecture does
                not have, or a tensor of the wrong shape (each named, with ``source``).
        """
        expected = _reference_shapes(type(self))
        state = {k: v for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
        head = {k: state.pop(k) for k in list(state) if k in self.head_keys}
        unexpected = sorted(set(state) - set(expected))
        missing = sorted(k for k in set(expected) - set(state) if not k.endswith(_OPTIONAL_SUFFIX))
        if unexpected or missing:
            parts = []
            if missing:
                parts.append(f"missing keys {_some(missing)}")
            if unexpected:
                parts.append(f"unexpected keys {_some(unexpected)}")
            raise ConfigurationError(
                f"weights={source!r} is not a checkpoint of the {self.name} architecture: "
                f"{'; '.join(parts)} (expected keys such as {_some(sorted(expected), 3)})"
            )
        bad = [f"{k} {tuple(state[k].shape)} (expected {expected[k]})"
               for k in sorted(state) if tuple(state[k].shape) != expected[k]]
        if bad:
            raise ConfigurationError(
                f"weights={source!r} has tensors of the wrong shape for {self.name}: {_some(bad)}"
            )
        own = self.state_dict()
        loaded = {}
        for key, value in state.items():
            if key not in own:
                continue  # a stage this encoder (depth < max) does not build
            if key == self.first_conv_key:
                value = adapt_first_conv(value, self.in_channels)
            loaded[key] = value.to(own[key].dtype)
        for key in own:
            loaded.setdefault(key, own[key])  # num_batches_tracked of old checkpoints
        self.load_state_dict(loaded, strict=True)
        return head


def adapt_first_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Pretrained first-layer filters O x 3 x k x k -> O x in_channels x k x k.

    The mean over the RGB filters, repeated ``in_channels`` times and scaled by
    3 / in_channels (so the response to a grey image in every channel is unchanged).
    """
    if weight.shape[1] == in_channels:
        return weight
    mean = weight.mean(dim=1, keepdim=True)
    return mean.repeat(1, in_channels, 1, 1) * (weight.shape[1] / in_channels)


def load_weights(encoder: Encoder, weights: str | Path | None) -> dict[str, torch.Tensor]:
    """Load ``weights`` (None or "none": random initialisation; "imagenet" where bundled; or a
    checkpoint path) into ``encoder``. ``"none"`` is what a YAML config says, like
    ``class_weights: none``.

    Returns the classifier-head tensors of the checkpoint (empty dict for None).

    Raises:
        ConfigurationError: "imagenet" for an encoder without bundled weights, or a checkpoint
            of another architecture.
        DataError: the checkpoint file is missing or unreadable.
    """
    if means_no_weights(weights):
        return {}
    if isinstance(weights, str) and weights == "imagenet":
        bundled = encoder.bundled_path()
        if bundled is None:
            raise ConfigurationError(
                f"weights='imagenet' is only bundled for efficientnet_lite0; for {encoder.name} pass "
                f"weights=PATH to a torchvision checkpoint (e.g. vgg16-397923af.pth, resnet18-f37072fd.pth) "
                f"or weights=None"
            )
        path = Path(bundled)
    elif isinstance(weights, (str, Path)):
        path = Path(weights)
    else:
        raise ConfigurationError(f"weights={weights!r} is not allowed: use None, 'imagenet' or a checkpoint path")
    if not path.is_file():
        raise DataError(f"weights file {str(path)!r} does not exist")
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise DataError(f"weights file {str(path)!r} is not a readable PyTorch state dict: {exc}") from exc
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise DataError(f"weights file {str(path)!r} holds a {type(state).__name__}, not a state dict")
    return encoder.load_checkpoint(state, str(weights))


def check_int(name: str, value, minimum: int = 1) -> None:
    """Raise ConfigurationError unless ``value`` is an int >= ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigurationError(f"{name}={value!r} is not allowed: it must be an integer >= {minimum}")


_SHAPES_CACHE: dict[type, dict[str, tuple[int, ...]]] = {}


def _reference_shapes(cls: type[Encoder]) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the full-depth RGB architecture (built once per class, then cached)."""
    if cls not in _SHAPES_CACHE:
        ref = cls(in_channels=3, depth=len(cls.stage_channels))
        _SHAPES_CACHE[cls] = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    return _SHAPES_CACHE[cls]


def _some(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
