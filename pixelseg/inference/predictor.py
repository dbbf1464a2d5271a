"""The network side of inference: resolve the network, device, channels; batched forward with TTA.

:class:`Predictor` is shared by :func:`~pixelseg.inference.semanticseg` and
:func:`~pixelseg.inference.semanticseg_tiled`. It takes uint8 images (N x H x W x C, numpy or
torch) or float tensors (N x C x H x W in [0, 1]), runs the network under
``torch.inference_mode`` with channels-last inputs, and returns class indices and, when asked,
softmax scores.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.checkpoint import check_finite_network
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.sizes import parse_size


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or None) -> CUDA when available, else Apple MPS, else CPU; otherwise as given.

    Raises:
        ConfigurationError: an unknown device string, or CUDA/MPS asked for but unavailable.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigurationError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError(f"device={device!r} was asked for but CUDA is not available")
    return dev


def unwrap_network(net) -> tuple[nn.Module, object | None]:
    """(nn.Module, ClassSet or None) from a TrainedNetwork or a SegmentationNetwork / nn.Module.

    Raises:
        ConfigurationError: ``net`` is neither.
    """
    if isinstance(net, nn.Module):
        return net, getattr(net, "class_set", None)
    inner = getattr(net, "network", None)
    if isinstance(inner, nn.Module):
        return inner, getattr(net, "class_set", None)
    raise ConfigurationError(
        f"net must be a TrainedNetwork or a SegmentationNetwork (torch.nn.Module), "
        f"got {type(net).__name__}"
    )


def network_in_channels(module: nn.Module) -> int | None:
    """``module.in_channels`` when present, else the first convolution's input channels."""
    value = getattr(module, "in_channels", None)
    if isinstance(value, int):
        return value
    for m in module.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            return m.in_channels
    return None


MAX_TTA_SCALE = 4.0  # a larger view is a different task (tiles), and 1e9 would overflow torch
MAX_INPUT_SIDE = 16384  # pixels per side of input_size; larger images belong to semanticseg_tiled


def parse_tta(tta) -> tuple[bool, tuple[float, ...]]:
    """``tta`` option -> (flip, scales). False: no TTA; True: horizontal flip at scale 1;
    a sequence of floats: horizontal flip at each of these scales.

    Raises:
        ConfigurationError: a scale that is not a positive number.
    """
    if tta is False or tta is None:
        return False, (1.0,)
    if tta is True:
        return True, (1.0,)
    try:
        if isinstance(tta, (str, bytes)):
            raise TypeError
        scales = tuple(float(s) for s in tta)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"tta must be False, True or a sequence of scales such as (0.75, 1.0, 1.25), got {tta!r}"
        ) from None
    if not scales or any(not (0 < s <= MAX_TTA_SCALE) for s in scales):
        raise ConfigurationError(f"tta scales must be positive numbers up to {MAX_TTA_SCALE:g}, got {tta!r}")
    return True, scales


class Predictor:
    """A network ready for inference on one device.

    Args:
        net: a ``TrainedNetwork`` (its ``.network`` and ``.class_set``) or a
            ``SegmentationNetwork`` / any ``nn.Module`` mapping N x C x H x W float32 in
            [0, 1] to logits N x K x H x W.
        device: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", ... The network is moved
            there (``nn.Module.to`` is in place) and stays there.
        tta: False; True (average of the image and its horizontal flip); or a sequence of
            scales (image and flip at each scale, scores resized back and averaged).
        input_size: None (the network sees each image at its own size) or (h, w): every image
            is resized to h x w (bilinear, antialiased when shrinking) before the network, and
            the logits are resized back (bilinear) to the image's size before the softmax, so
            label maps keep the input's grid. For a network trained on resized images.
            ``"auto"``: the ``inference_size`` of a TrainedNetwork (the size the train job
            resized its images to), else None.

    Use as a context manager: the network is put in eval mode inside and its previous
    training mode restored on exit.

    Raises:
        DataError: a weight or buffer of the network holds NaN or infinity (its scores would
            be NaN, read as class 0 everywhere); the message names the tensor and the
            network's checkpoint file when known.
    """

    def __init__(self, net, device="auto", tta=False, input_size=None):
        self.module, self.class_set = unwrap_network(net)
        check_finite_network(self.module, str(getattr(net, "checkpoint", None) or "the network"))
        self.device = resolve_device(device)
        self.flip, self.scales = parse_tta(tta)
        if isinstance(input_size, str) and input_size == "auto":
            input_size = getattr(net, "inference_size", None)
        self.input_size = parse_size(input_size, "input_size", maximum=MAX_INPUT_SIDE)
        self.in_channels = network_in_channels(self.module)
        self._was_training = None
        self.module.to(self.device)

    @property
    def num_classes(self) -> int | None:
        """The network's number of classes when it declares one, else None."""
        value = getattr(self.module, "num_classes", None)
        return int(value) if isinstance(value, int) else None

    def probe_num_classes(self) -> int:
        """``num_classes`` of the network; for a module that does not declare it, found by
        one forward pass on a small zero image."""
        if self.num_classes is not None:
            return self.num_classes
        x = torch.zeros(1, self.in_channels or 3, 32, 32, device=self.device)
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.inference_mode():
                return int(self._forward(x).shape[1])
        finally:
            self.module.train(was_training)

    def __enter__(self) -> Predictor:
        self._was_training = self.module.training
        self.module.eval()
        return self

    def __exit__(self, *exc) -> None:
        if self._was_training:
            self.module.train()

    # ------------------------------------------------------------------ inputs
    def check_channels(self, channels: int, source: str = "the image") -> None:
        """Raise ConfigurationError when the network does not take ``channels`` channels."""
        if self.in_channels is not None and channels != self.in_channels:
            raise ConfigurationError(
                f"{source} has {channels} channel(s) but the network takes {self.in_channels} "
                f"(in_channels={self.in_channels})"
            )

    def to_input(self, batch) -> torch.Tensor:
        """N x H x W x C uint8/uint16 (numpy or torch) -> N x C x H x W float32 in [0, 1],
        on the device, channels-last. The integer data crosses to the device before the
        conversion (4x less to copy than float)."""
        scale = 1.0 / 255.0
        if isinstance(batch, np.ndarray):
            if batch.dtype == np.uint16:
                batch, scale = batch.astype(np.int32), 1.0 / 65535.0
            elif batch.dtype != np.uint8:
                raise DataError(f"images must be uint8 or uint16, got {batch.dtype}")
            t = torch.from_numpy(np.ascontiguousarray(batch))
        else:
            t = batch
            if t.dtype != torch.uint8:
                raise DataError(f"images must be uint8 or uint16, got {t.dtype}")
        if t.ndim != 4:
            raise DataError(f"expected a batch N x H x W x C, got shape {tuple(t.shape)}")
        self.check_channels(int(t.shape[-1]))
        t = t.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().mul_(scale)
        return t.contiguous(memory_format=torch.channels_last)

    def float_input(self, x: torch.Tensor) -> torch.Tensor:
        """N x C x H x W float tensor in [0, 1] -> on the device, channels-last. Shape, dtype
        and channels are checked here; values (finite, in [0, 1]) are checked per image, with
        its name, by ``semanticseg`` before batching."""
        if x.ndim != 4:
            raise DataError(f"expected a tensor N x C x H x W, got shape {tuple(x.shape)}")
        if not x.is_floating_point():
            raise DataError(f"a tensor input must be float in [0, 1], got dtype {x.dtype}")
        self.check_channels(int(x.shape[1]))
        x = x.to(self.device, dtype=torch.float32, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last)

    # ------------------------------------------------------------------ forward
    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.module(x)
        if isinstance(out, dict):  # {"out": logits} style modules
            out = out["out"]
        if out.ndim != 4 or out.shape[0] != x.shape[0]:
            raise ConfigurationError(
                f"the network returned shape {tuple(out.shape)} for input {tuple(x.shape)}; "
                "expected logits N x K x H x W"
            )
        if out.shape[-2:] != x.shape[-2:]:
            out = F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return out.float()

    def _view_at(self, x: torch.Tensor, scale: float) -> torch.Tensor:
        """The input as the network sees it at TTA ``scale``: resized once from the original
        to ``scale`` x (``input_size`` or the input's size); antialiased when any side shrinks."""
        h, w = x.shape[-2:]
        base_h, base_w = self.input_size or (h, w)
        size = (max(1, round(base_h * scale)), max(1, round(base_w * scale)))
        if size == (h, w):
            return x
        return _resize(x, size, antialias=size[0] < h or size[1] < w)

    def _logits(self, view: torch.Tensor, size, flipped: bool = False) -> torch.Tensor:
        """Logits of ``view`` on the input's grid ``size`` (resized bilinearly before any
        softmax, so labels do not depend on whether scores are asked for)."""
        out = self._forward(view.flip(-1) if flipped else view)
        if flipped:
            out = out.flip(-1)
        return out if tuple(out.shape[-2:]) == tuple(size) else _resize(out, tuple(size))

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax class scores N x K x H x W (float32) of a prepared input, TTA-averaged."""
        size = x.shape[-2:]
        total = None
        count = 0
        for s in self.scales:
            view = self._view_at(x, s)
            for flipped in (False, True) if self.flip else (False,):
                p = self._logits(view, size, flipped).softmax(1)
                total = p if total is None else total.add_(p)
                count += 1
        return total.div_(count)

    def predict(self, x: torch.Tensor, need_scores: bool = False):
        """Labels N x H x W (uint8 tensor) and, when ``need_scores``, the scores N x K x H x W.

        Without TTA or scores the argmax is taken on the logits directly (same result,
        no softmax).
        """
        with torch.inference_mode():
            if not need_scores and not self.flip and self.scales == (1.0,):
                logits = self._logits(self._view_at(x, 1.0), x.shape[-2:])
                self._check_num_classes(logits)
                return _argmax_classes(logits), None
            probs = self.scores(x)
            self._check_num_classes(probs)
            return _argmax_classes(probs), probs

    @staticmethod
    def _check_num_classes(out: torch.Tensor) -> None:
        if out.shape[1] > 255:
            raise ConfigurationError(
                f"the network has {out.shape[1]} classes; label maps are uint8 with 255 = void, "
                "so at most 255 classes are supported"
            )


def _resize(x: torch.Tensor, size: tuple[int, int], antialias: bool = False) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=antialias)


def default_class_set(num_classes: int, class_set=None, source: str = "the network"):
    """The ClassSet to write labels with: ``class_set`` when given (checked against
    ``num_classes``), else names "class0".. with :func:`default_colormap` colours.

    Raises:
        ConfigurationError: the class set's size differs from the network's classes.
    """
    from pixelseg.data import ClassSet
    from pixelseg.inference.overlay import default_colormap

    if class_set is not None:
        if num_classes is not None and class_set.num_classes != num_classes:
            raise ConfigurationError(
                f"class_set has {class_set.num_classes} classes but {source} predicts "
                f"{num_classes}"
            )
        return class_set
    return ClassSet([f"class{i}" for i in range(num_classes)], colors=default_colormap(num_classes))



def _argmax_classes(scores: torch.Tensor) -> torch.Tensor:
    """Class indices N x H x W (uint8) of scores N x K x H x W; first class on ties.

    ``max(1).indices`` rather than ``argmax(1)``: the same result, several times faster on
    CPU for channels-first tensors in current PyTorch builds.
    """
    return scores.max(1).indices.to(torch.uint8)
