"""Segmentation losses: cross-entropy, OHEM cross-entropy, Dice and focal, and a weighted sum of them.

Every loss takes logits N x K x H x W (float) and a label map N x H x W (int64, class
indices 0..K-1, void = 255 ignored) and returns a scalar tensor: the mean over the labelled
(non-void) pixels, or over the classes for Dice. A batch whose pixels are all void gives a
loss of 0 (with a gradient of 0), never NaN.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.evaluation.confusion import describe_values

__all__ = ["CrossEntropyLoss", "DiceLoss", "FocalLoss", "OhemCrossEntropyLoss", "WeightedSumLoss", "build_loss",
           "VOID_INDEX"]

VOID_INDEX = VOID  # the default ignore_index


def _as_weight(class_weights, num_classes: int | None) -> torch.Tensor | None:
    """``class_weights`` as a float32 tensor of K entries, or None.

    Raises:
        ConfigurationError: not K numbers, a negative or non-finite weight, or weights that
            sum to 0 (every pixel would weigh nothing: the loss would be 0 at every step and
            nothing would be learned); the message shows the values.
    """
    if class_weights is None:
        return None
    try:
        weight = torch.as_tensor(class_weights, dtype=torch.float32).reshape(-1).clone()
    except (TypeError, ValueError, RuntimeError):
        raise ConfigurationError(f"class_weights must be K numbers (one per class), got {class_weights!r}") from None
    if num_classes is not None and weight.numel() != num_classes:
        raise ConfigurationError(
            f"class_weights has {weight.numel()} entries but the network has {num_classes} classes"
        )
    if not torch.isfinite(weight).all() or (weight < 0).any():
        raise ConfigurationError(f"class_weights must be finite and >= 0, got {weight.tolist()}")
    if float(weight.sum()) <= 0:
        raise ConfigurationError(
            f"class_weights sum to 0 ({weight.tolist()}): every pixel would have weight 0 and the loss would "
            "be 0 at every step; give at least one class a positive weight"
        )
    return weight


def _target_problem(logits: torch.Tensor, target: torch.Tensor, ignore_index: int) -> str | None:
    """What is wrong with ``target`` for ``logits`` (shapes, dtype, values), or None."""
    if logits.ndim != 4 or target.shape != (logits.shape[0], *logits.shape[2:]):
        return (f"the label map must be N x H x W matching logits N x K x H x W {tuple(logits.shape)}, "
                f"got {tuple(target.shape)}")
    if target.is_floating_point() or target.dtype == torch.bool:
        return f"the label map must hold integer class indices (int64), got {target.dtype}"
    k = logits.shape[1]
    bad = ((target < 0) | (target >= k)) & (target != ignore_index)
    if bad.any():
        values, counts = torch.unique(target[bad], return_counts=True)
        return (f"the label map holds values that are neither a class index 0..{k - 1} nor void "
                f"({ignore_index}): {describe_values(values.tolist(), counts.tolist())}")
    return None


def _explained(forward: Callable) -> Callable:
    """Turn PyTorch's error on a bad label map (a value >= K, a shape mismatch) into a
    DataError saying what is wrong; checked only when the loss fails, so a good batch costs
    nothing extra."""

    @functools.wraps(forward)
    def checked(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        try:
            return forward(self, logits, target)
        except (IndexError, RuntimeError, ValueError) as exc:
            problem = _target_problem(logits, target, self.ignore_index)
            if problem is None:
                raise
            raise DataError(f"{type(self).__name__}: {problem}") from exc

    return checked


class CrossEntropyLoss(nn.Module):
    """Pixel-wise cross-entropy with optional class weights; void pixels ignored.

    With class weights ``w``, the loss is ``sum_i w[y_i] * CE_i / sum_i w[y_i]`` over the
    labelled pixels ``i`` (PyTorch ``F.cross_entropy`` with ``reduction="mean"``; MATLAB's
    weighted ``crossentropy`` normalises the same way).

    Args:
        class_weights: K non-negative floats (e.g. ``pixelseg.data.class_weights``) or None.
        ignore_index: label value excluded from the loss (255, void).
    """

    def __init__(self, class_weights: Sequence[float] | torch.Tensor | None = None, ignore_index: int = VOID_INDEX,
                 num_classes: int | None = None) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.register_buffer("weight", _as_weight(class_weights, num_classes), persistent=False)

    @_explained
    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # Sum / total weight rather than reduction="mean": an all-void batch gives 0, not
        # 0/0 = NaN, and no host-device sync is needed to detect it.
        total = F.cross_entropy(logits, target, weight=self.weight, ignore_index=self.ignore_index, reduction="sum")
        valid = target != self.ignore_index
        if self.weight is None:
            denominator = valid.sum()
        else:
            denominator = (self.weight[torch.where(valid, target, torch.zeros_like(target))] * valid).sum()
        return total / denominator.to(total.dtype).clamp_min(torch.finfo(total.dtype).tiny)


class OhemCrossEntropyLoss(nn.Module):
    """Cross-entropy over the hard pixels only (online hard example mining, OHEM).

    A labelled pixel is hard when the predicted probability of its true class is below
    ``threshold``; the loss is the (class-weighted) mean cross-entropy over the hard pixels,
    or over the ``min_kept`` fraction of labelled pixels with the highest loss when fewer are
    hard, so easy, large regions (road, sky) stop dominating the gradient once learnt and
    thin, rare classes keep it. The pixels are chosen per mini-batch, without gradient.

    Source: Shrivastava et al., "Training Region-based Object Detectors with Online Hard
    Example Mining", CVPR 2016; the pixel form with a probability threshold and a minimum
    count as in PSPNet / BiSeNet training (threshold 0.7) and MMSegmentation's
    ``OHEMPixelSampler``.

    Args:
        threshold: probability of the true class under which a pixel is hard (0.7), in (0, 1].
        min_kept: at least this fraction of the labelled pixels is kept (1/16), in (0, 1].
        class_weights: optional K weights, applied as in :class:`CrossEntropyLoss`.

    Raises:
        ConfigurationError: ``threshold`` or ``min_kept`` outside (0, 1].
    """

    def __init__(self, threshold: float = 0.7, min_kept: float = 1 / 16, class_weights=None,
                 ignore_index: int = VOID_INDEX, num_classes: int | None = None) -> None:
        super().__init__()
        for name, value in (("ohem_threshold", threshold), ("ohem_min_kept", min_kept)):
            if not 0 < value <= 1:
                raise ConfigurationError(f"{name} must be in (0, 1], got {value}")
        self.threshold, self.min_kept = float(threshold), float(min_kept)
        self.ignore_index = ignore_index
        self.register_buffer("weight", _as_weight(class_weights, num_classes), persistent=False)

    @_explained
    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pixel = F.cross_entropy(logits, target, ignore_index=self.ignore_index, reduction="none").flatten()
        valid = (target != self.ignore_index).flatten()
        with torch.no_grad():
            ranked = torch.where(valid, pixel.detach(), torch.full_like(pixel, -1.0))
            hard = ranked > -math.log(self.threshold)  # p_true < threshold; never a void pixel
            labelled, num_hard = torch.stack([valid.sum(), hard.sum()]).tolist()  # one host sync
            keep = math.ceil(labelled * self.min_kept)
            if num_hard < keep:  # too few hard pixels: the keep highest losses (all labelled: >= 0 > -1)
                hard = torch.zeros_like(valid)
                hard[ranked.topk(keep).indices] = True
        w = hard.to(pixel.dtype)
        if self.weight is not None:
            w = w * self.weight[torch.where(valid, target.flatten(), torch.zeros_like(target.flatten()))]
        return (pixel * w).sum() / w.sum().clamp_min(torch.finfo(pixel.dtype).tiny)


class FocalLoss(nn.Module):
    """Focal loss ``-(1 - p_t) ** gamma * w[y] * log p_t``, mean over labelled pixels.

    Source: Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017. With
    ``gamma = 0`` and no class weights it equals cross-entropy.

    Args:
        gamma: focusing parameter (2.0).
        class_weights: optional K weights (the alpha of the paper, per class); the mean is then
            weighted like :class:`CrossEntropyLoss`.
    """

    def __init__(self, gamma: float = 2.0, class_weights=None, ignore_index: int = VOID_INDEX,
                 num_classes: int | None = None) -> None:
        super().__init__()
        if gamma < 0:
            raise ConfigurationError(f"focal gamma must be >= 0, got {gamma}")
        self.gamma = float(gamma)
        self.ignore_index = ignore_index
        self.register_buffer("weight", _as_weight(class_weights, num_classes), persistent=False)

    @_explained
    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        valid = target != self.ignore_index
        safe = torch.where(valid, target, torch.zeros_like(target))
        log_p = F.log_softmax(logits.float(), dim=1).gather(1, safe.unsqueeze(1)).squeeze(1)
        focal = -((1.0 - log_p.exp()).clamp_min(0) ** self.gamma) * log_p
        w = valid.to(focal.dtype)
        if self.weight is not None:
            w = w * self.weight[safe]
        return (focal * w).sum() / w.sum().clamp_min(torch.finfo(focal.dtype).tiny)


class DiceLoss(nn.Module):
    """Soft Dice loss ``1 - mean_k (2 sum p_k g_k + s) / (sum p_k + sum g_k + s)``.

    Computed over the whole mini-batch for each class, on softmax probabilities, over
    labelled pixels only; classes absent from both the batch truth and (softly) the
    prediction contribute ~0 loss thanks to the smoothing ``s``. Class weights, when given,
    weight the per-class terms (generalised mean).

    Source: Milletari et al., "V-Net", 3DV 2016 (soft Dice); MATLAB ``dicePixelClassificationLayer``.

    Args:
        smooth: the additive smoothing ``s`` (1.0).
    """

    def __init__(self, class_weights=None, smooth: float = 1.0, ignore_index: int = VOID_INDEX,
                 num_classes: int | None = None) -> None:
        super().__init__()
        self.smooth = float(smooth)
        self.ignore_index = ignore_index
        self.register_buffer("weight", _as_weight(class_weights, num_classes), persistent=False)

    @_explained
    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        num_classes = logits.shape[1]
        valid = (target != self.ignore_index).unsqueeze(1)
        safe = torch.where(valid.squeeze(1), target, torch.zeros_like(target))
        probs = F.softmax(logits.float(), dim=1) * valid
        truth = F.one_hot(safe, num_classes).permute(0, 3, 1, 2).to(probs.dtype) * valid
        dims = (0, 2, 3)
        intersection = (probs * truth).sum(dims)
        total = probs.sum(dims) + truth.sum(dims)
        dice = (2 * intersection + self.smooth) / (total + self.smooth)
        if self.weight is None:
            return 1.0 - dice.mean()
        w = self.weight.to(dice.dtype)
        return 1.0 - (dice * w).sum() / w.sum().clamp_min(torch.finfo(dice.dtype).tiny)


class WeightedSumLoss(nn.Module):
    """``sum_j weight_j * loss_j`` of named losses; ``.terms`` maps name -> (weight, module)."""

    def __init__(self, terms: Mapping[str, tuple[float, nn.Module]]) -> None:
        super().__init__()
        if not terms:
            raise ConfigurationError("a weighted loss needs at least one term")
        self.names = list(terms)
        self.weights = [float(w) for w, _ in terms.values()]
        self.losses = nn.ModuleList(m for _, m in terms.values())

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = None
        for weight, loss in zip(self.weights, self.losses):
            if weight == 0:
                continue
            value = weight * loss(logits, target)
            total = value if total is None else total + value
        return total if total is not None else logits.sum() * 0.0


_FACTORIES = {
    "cross-entropy": lambda cw, k, opts: CrossEntropyLoss(cw, num_classes=k),
    "dice": lambda cw, k, opts: DiceLoss(cw, num_classes=k),
    "focal": lambda cw, k, opts: FocalLoss(opts.get("focal_gamma", 2.0), cw, num_classes=k),
    "ohem": lambda cw, k, opts: OhemCrossEntropyLoss(opts.get("ohem_threshold", 0.7), opts.get("ohem_min_kept", 1 / 16),
                                                     cw, num_classes=k),
}


def build_loss(spec: str | Mapping[str, float] = "cross-entropy", class_weights=None,
               num_classes: int | None = None, focal_gamma: float = 2.0, ohem_threshold: float = 0.7,
               ohem_min_kept: float = 1 / 16) -> nn.Module:
    """A loss module from a name or a dict of name -> weight.

    Args:
        spec: ``"cross-entropy"``, ``"dice"``, ``"focal"``, ``"ohem"`` (cross-entropy over the
            hard pixels) or e.g. ``{"cross-entropy": 1, "dice": 0.5}``.
        class_weights: K weights applied by every term, or None.
        num_classes: K, to check the length of ``class_weights``.
        focal_gamma: gamma of the focal term.
        ohem_threshold, ohem_min_kept: of the OHEM term (:class:`OhemCrossEntropyLoss`).

    Raises:
        ConfigurationError: unknown loss name, bad weights, or class_weights of the wrong length.
    """
    weights = {spec: 1.0} if isinstance(spec, str) else dict(spec)
    unknown = [name for name in weights if name not in _FACTORIES]
    if unknown:
        raise ConfigurationError(f"unknown loss {unknown[0]!r}; choose from {', '.join(_FACTORIES)}")
    opts = {"focal_gamma": focal_gamma, "ohem_threshold": ohem_threshold, "ohem_min_kept": ohem_min_kept}
    modules = {name: (w, _FACTORIES[name](class_weights, num_classes, opts)) for name, w in weights.items()}
    if len(modules) == 1 and next(iter(modules.values()))[0] == 1.0:
        return next(iter(modules.values()))[1]
    return WeightedSumLoss(modules)
