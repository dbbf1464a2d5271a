"""``SegmentationNetwork``: the base of every network (input checks, normalisation, padding).

Every network takes N x C x H x W float32 images with values in [0, 1], normalises them with
the statistics its encoder was trained with (buffers of the first module, ``normalize``),
pads H and W with zeros (after normalisation: the mean colour) at the bottom and right up to a
multiple of its output stride, runs ``forward_padded`` and crops the logits back to H x W, so
any H, W >= 1 works (a 1 x 3 x 64 x 40 input gives 1 x K x 64 x 40 logits at stride 32).

Every network records the arguments it was built with (as segmentation_models.pytorch's hub
mixin does): ``SegmentationNetwork.__new__`` binds the arguments of the concrete class's
``__init__``, and ``net.config`` holds them, so ``create_network(**net.config)`` rebuilds the
architecture and no builder writes a config by hand.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.models.encoders.base import check_int
from pixelseg.models.layers import IMAGENET_MEAN, IMAGENET_STD, InputNormalization


class SegmentationNetwork(nn.Module):
    """Base class: ``forward(x)`` x N x C x H x W float32 in [0, 1] -> logits N x K x H x W.

    Attributes:
        num_classes: K, the number of output channels (classes).
        in_channels: C, the number of input channels.
        stride: H and W are padded to a multiple of this before ``forward_padded``.
        config: the keyword arguments that rebuild this architecture with
            ``create_network(**net.config)``: ``{"name": name, **arguments}``, the arguments
            of the concrete class's ``__init__`` (defaults included) in the order of its
            signature, without ``unrecorded_arguments`` (the weights come separately, from a
            state dict), and ``image_size`` last, as ``check_common`` returns it (a tuple of
            ints or None).

    Subclasses set ``name`` (the registry name), take their public arguments in ``__init__``
    by keyword (the same names and defaults as their builder function), call
    ``super().__init__(num_classes, in_channels, stride, mean, std, image_size=...)`` and
    implement ``forward_padded(x)`` on normalised, padded input, returning logits of the padded
    size (N x K x H' x W').
    """

    name: ClassVar[str] = ""
    #: ``__init__`` arguments left out of ``config``: they fill the state dict, which a
    #: checkpoint stores next to the config.
    unrecorded_arguments: ClassVar[frozenset[str]] = frozenset({"weights"})

    def __new__(cls, *args: Any, **kwargs: Any) -> SegmentationNetwork:
        net = super().__new__(cls)
        object.__setattr__(net, "_init_arguments", _bind_arguments(cls.__init__, args, kwargs))
        return net

    def __init__(self, num_classes: int, in_channels: int, stride: int, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD, image_size: tuple[int, ...] | None = None):
        super().__init__()
        self.normalize = InputNormalization(mean, std, in_channels)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.stride = stride
        arguments = getattr(self, "_init_arguments", {})
        config = {"name": self.name}
        config.update((k, v) for k, v in arguments.items() if k not in self.unrecorded_arguments)
        if "image_size" in config:  # recorded last, as check_common normalises it
            del config["image_size"]
            config["image_size"] = image_size
        self.config = config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x N x C x H x W float32 in [0, 1] -> logits N x K x H x W float32.

        Raises:
            DataError: x is not a 4-D floating-point tensor with ``in_channels`` channels and
                H, W >= 1, or (training mode only) the batch would give BatchNorm a single value
                per channel at the coarsest level.
        """
        tracing = torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.compiler.is_exporting()
        if not tracing:
            self._check_input(x)
        h, w = x.shape[-2], x.shape[-1]
        x = self.normalize(x)
        # written as stride * ceil(h / stride) so that torch.export sees a multiple of the stride
        pad_h = (h + self.stride - 1) // self.stride * self.stride - h
        pad_w = (w + self.stride - 1) // self.stride * self.stride - w
        if tracing or pad_h or pad_w:  # no data-dependent branch when exported
            x = F.pad(x, (0, pad_w, 0, pad_h))
        logits = self.forward_padded(x)
        return logits[:, :, :h, :w]

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise DataError(f"network input must be a torch.Tensor N x C x H x W, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] < 1 or x.shape[3] < 1:
            raise DataError(
                f"network input has shape {tuple(x.shape)}; {self.name} expects N x {self.in_channels} x H x W "
                f"with N, H, W >= 1"
            )
        if not x.is_floating_point():
            raise DataError(f"network input has dtype {x.dtype}; expected float32 with values in [0, 1] (uint8 / 255)")
        if self.training and x.shape[0] == 1:
            coarse = (-(-x.shape[2] // self.stride)) * (-(-x.shape[3] // self.stride))
            if coarse == 1:
                raise DataError(
                    f"a training batch of one {x.shape[2]} x {x.shape[3]} image is too small for {self.name}: "
                    f"BatchNorm needs more than one value per channel at stride {self.stride}; use a batch "
                    f"of at least 2 or images larger than {self.stride} x {self.stride} pixels"
                )

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, in_channels={self.in_channels}, stride={self.stride}"


def _bind_arguments(init: Callable[..., None], args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments of ``init(self, *args, **kwargs)`` by name, defaults applied, ``self``
    left out and ``**kwargs`` flattened; {} when they do not bind (``__init__`` then raises
    its usual TypeError)."""
    signature = inspect.signature(init)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return {}
    bound.apply_defaults()
    arguments: dict[str, Any] = {}
    for param in list(signature.parameters.values())[1:]:
        value = bound.arguments[param.name]
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        else:
            arguments[param.name] = value
    return arguments


def require_num_classes(num_classes: Any) -> None:
    """Raise ConfigurationError unless num_classes is an integer >= 1 (None: "required")."""
    if num_classes is None:
        raise ConfigurationError("num_classes is required (an integer >= 1)")
    check_int("num_classes", num_classes, minimum=1)


def check_common(num_classes: Any, in_channels: Any, image_size: Any) -> tuple[int, ...] | None:
    """Validate the arguments every network takes; returns image_size as a tuple or None.

    image_size: None, (H, W) or (H, W, C) as MATLAB's imageSize; only checked (any size works
    at run time) and C, when given, must equal in_channels.
    """
    require_num_classes(num_classes)
    if num_classes > 255:
        raise ConfigurationError(
            f"num_classes={num_classes} is not allowed: at most 255 classes (label 255 is void)"
        )
    check_int("in_channels", in_channels, minimum=1)
    if image_size is None:
        return None
    try:
        size = tuple(int(v) for v in image_size)
        ok = len(size) in (2, 3) and all(v >= 1 for v in size) and all(float(v) == int(v) for v in image_size)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigurationError(f"image_size={image_size!r} is not allowed: use (H, W) or (H, W, C) with values >= 1")
    if len(size) == 3 and size[2] != in_channels:
        raise ConfigurationError(
            f"image_size={image_size!r} has {size[2]} channels but in_channels={in_channels}; make them agree"
        )
    return size
