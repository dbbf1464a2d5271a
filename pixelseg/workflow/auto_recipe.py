"""The automatic recipe's choices (``pixelseg train --data DIR --time-budget 30m``), as pure functions.

:func:`choose_recipe` looks at a :class:`DataProfile` (sizes, grey or colour, class
frequencies, how many images) and picks the input size or crop, augmentation, class
weighting, network and solver; :func:`plan_budget` turns measured step and validation times
into a number of epochs, validations and a hard time limit that end the run within the
budget. Every choice carries one reason, printed and written into the run folder.
:mod:`pixelseg.workflow.auto_train` measures and runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pixelseg.errors import ConfigurationError

__all__ = ["DOMAINS", "DataProfile", "Choice", "Recipe", "choose_recipe", "plan_budget", "PRECISE_BN_BATCHES"]

#: Application domains (``--domain``) and whether their imagery has an "up".
DOMAINS = {
    "scene": "road or indoor scenes: the sky is up, so horizontal flips only",
    "aerial": "aerial or satellite tiles: no up, so any rotation and mirror image",
    "microscopy": "microscopy: no up, so any rotation and mirror image",
    "medical": "medical scans and photos: anatomy has an orientation, so horizontal flips only",
    "inspection": "industrial inspection: parts are fixtured, so horizontal flips only",
}
_ROTATION_FREE = {"aerial", "microscopy"}
#: Training crops hold about this many pixels (256 x 320): on 2 CPU cores a mini-batch of 8
#: such crops takes a few seconds with the default network.
CROP_PIXELS = 256 * 320
#: Longest side of the images the network sees; larger images are scaled down.
MAX_SIDE = 1024
#: ... but not so far that a class's regions become narrower than this (pixels), up to
#: ``MAX_SIDE_THIN`` for the longest side.
MIN_WIDTH = 3.0
MAX_SIDE_THIN = 2048
#: Classes with a smaller share of the labelled pixels are left out of the width rule.
MIN_SHARE = 0.001
#: Mini-batches of batch-norm recalibration before each validation (TrainingOptions default).
PRECISE_BN_BATCHES = 16


@dataclass
class DataProfile:
    """What the recipe looks at: ``num_train`` / ``num_validation`` pairs (0: a validation
    split is partitioned off), ``image_size`` (median H, W), ``grey`` (all sampled images
    have equal channels), ``class_names``, ``class_fraction`` (K,) share of the labelled
    training pixels per class, and ``class_width`` (K,) typical width of each class's regions
    in pixels at the native size (:func:`pixelseg.data.object_size.class_widths`; NaN: not
    seen; None: not measured)."""

    num_train: int
    num_validation: int
    image_size: tuple[int, int]
    grey: bool
    class_names: list[str]
    class_fraction: np.ndarray
    class_width: np.ndarray | None = None

    def thinnest(self) -> tuple[str, float] | None:
        """(name, width) of the narrowest class among those with at least ``MIN_SHARE`` of
        the pixels; None when widths were not measured."""
        if self.class_width is None:
            return None
        width = np.where(np.asarray(self.class_fraction) >= MIN_SHARE, self.class_width, np.nan)
        if np.isnan(width).all():
            return None
        i = int(np.nanargmin(width))
        return self.class_names[i], float(width[i])

    @property
    def imbalance(self) -> float:
        """Most frequent over least frequent class share (classes with pixels); inf when a
        class has none."""
        f = np.asarray(self.class_fraction, dtype=float)
        if (f <= 0).any():
            return math.inf
        return float(f.max() / f.min())


@dataclass
class Choice:
    """One decision: the setting (a dotted config key), its value and why."""

    key: str
    value: Any
    reason: str

    def line(self) -> str:
        return f"{self.key} = {self.value}: {self.reason}"


@dataclass
class Recipe:
    """The chosen config fields (``data`` overrides, ``class_weights``, ``network``,
    ``options``) and the choices that led there, in order."""

    data: dict[str, Any] = field(default_factory=dict)
    class_weights: str | None = None
    network: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)

    def set(self, key: str, value: Any, reason: str) -> None:
        """Choose ``value`` for ``key`` (``"class_weights"`` or a dotted ``"data.crop_size"``,
        ``"network.name"``, ``"options.max_epochs"``) and record why."""
        section, _, field_name = key.partition(".")
        if field_name:
            getattr(self, section)[field_name] = value
        else:
            setattr(self, section, value)
        self.choices.append(Choice(key, value, reason))


def _round(value: float, step: int = 32, low: int = 64) -> int:
    return max(low, int(round(value / step)) * step)


def _domain(profile: DataProfile, domain: str | None) -> tuple[str, str]:
    if domain is not None and domain != "auto":
        if domain not in DOMAINS:
            raise ConfigurationError(f"--domain must be one of {', '.join(DOMAINS)} or auto, got {domain!r}")
        return domain, f"given; {DOMAINS[domain]}"
    if profile.grey:
        return "microscopy", "greyscale images, taken as microscopy (pass --domain to say otherwise)"
    return "scene", "colour images, taken as scenes with an up (pass --domain aerial for overhead imagery)"


def _scale_down(r: Recipe, profile: DataProfile, thin: tuple[str, float] | None) -> None:
    """``data.image_size`` for images whose longest side is over ``MAX_SIDE``: that side, or
    up to ``MAX_SIDE_THIN`` when it would leave the narrowest class under ``MIN_WIDTH``."""
    h0, w0 = profile.image_size
    scale = MAX_SIDE / max(h0, w0)
    why = f"longest side {MAX_SIDE}"
    if thin is not None and thin[1] * scale < MIN_WIDTH:
        scale = min(1.0, max(scale, MIN_WIDTH / thin[1]), MAX_SIDE_THIN / max(h0, w0))
        why = (f"not to a longest side of {MAX_SIDE}: class {thin[0]!r}, {thin[1]:.1f} px wide, would be "
               f"{thin[1] * MAX_SIDE / max(h0, w0):.1f} px; scaled by {scale:.2f} it is {thin[1] * scale:.1f} px")
    if scale >= 1.0:
        r.choices.append(Choice("data.image_size", None, f"images of {h0} x {w0} are kept at their size: {why}"))
        return
    h, w = _round(h0 * scale, 8, 32), _round(w0 * scale, 8, 32)
    r.set("data.image_size", [h, w], f"images of {h0} x {w0} are scaled to {h} x {w} ({why}) so that validation "
          "and prediction fit the budget")


def choose_recipe(profile: DataProfile, domain: str | None = None) -> Recipe:
    """The recipe for ``profile`` (before the time budget: see :func:`plan_budget`).

    Raises:
        ConfigurationError: an unknown ``domain``.
    """
    r = Recipe()
    name, why = _domain(profile, domain)
    r.choices.append(Choice("domain", name, why))
    h, w = profile.image_size
    thin = profile.thinnest()
    if thin is not None:
        widths = ", ".join(f"{n} {v:.0f}" for n, v in zip(profile.class_names, profile.class_width) if not np.isnan(v))
        r.choices.append(Choice("objects", f"{thin[0]} {thin[1]:.1f} px", f"the narrowest class; typical widths in "
                                f"pixels: {widths}"))
    if max(h, w) > MAX_SIDE:
        _scale_down(r, profile, thin)
        h, w = r.data.get("image_size", (h, w))
    if h * w > 1.5 * CROP_PIXELS:
        ch = min(h, _round(math.sqrt(CROP_PIXELS * h / w)))
        cw = min(w, _round(CROP_PIXELS / ch))
        r.set("data.crop_size", [ch, cw], f"random {ch} x {cw} crops ({ch * cw / (h * w):.0%} of a {h} x {w} image) "
              "give more iterations in the budget; validation sees whole images")
    r.set("data.augment", "overhead" if name in _ROTATION_FREE else "default",
          "any rotation and flips, scale 0.8-1.25" if name in _ROTATION_FREE
          else "horizontal flips, scale 0.75-1.5, light colour jitter")
    ratio = profile.imbalance
    if ratio > 5:
        rare = profile.class_names[int(np.argmin(profile.class_fraction))]
        shown = "absent from the training labels" if math.isinf(ratio) else f"{ratio:.0f}x rarer than the most frequent"
        r.set("class_weights", "enet", f"class {rare!r} is {shown}; ENet weights 1 / ln(1.02 + p) lift rare "
              "classes without the extremes of median-frequency weights")
    else:
        r.set("class_weights", "none", f"class shares are within {ratio:.1f}x of each other")
    r.set("network.name", "deeplabv3plus", "DeepLab v3+ on the ImageNet-pretrained EfficientNet-Lite0 encoder "
          "(3.9 M parameters): the best score per CPU second of the networks measured (bench/RESULTS.md)")
    r.network.update(backbone="efficientnet_lite0", weights="imagenet", downsampling_factor=16)
    batch = max(1, min(8, profile.num_train))
    r.set("options.mini_batch_size", batch, "8 images or crops per step: stable batch statistics at a few "
          "seconds per step" if batch == 8 else f"only {profile.num_train} training images")
    r.options.update(solver="adamw", initial_learn_rate=2e-3, learn_rate_schedule="poly", poly_power=0.9,
                     l2_regularization=1e-4, shuffle="every-epoch", num_workers=0, seed=0,
                     plots="training-progress", checkpoint_frequency=1)
    r.choices.append(Choice("options.solver", "adamw 2e-3, poly decay", "the CamVid recipe's solver; robust "
                            "without tuning for a pretrained encoder"))
    r.set("options.output_network", "last-iteration", "the validation split is the one the report scores: "
          "choosing the network on it would inflate the score")
    return r


def plan_budget(recipe: Recipe, budget_s: float, elapsed_s: float, step_s: float, validation_pass_s: float,
                iterations_per_epoch: int) -> Recipe:
    """Set epochs, validation frequency, warm-up and ``max_time`` so the run ends in time.

    The budget pays for what was spent already (``elapsed_s``: reading, measuring), the
    training steps (``step_s`` each), ``V`` validations during training (a pass over the
    validation set, ``validation_pass_s``, plus batch-norm recalibration; the last one at the
    last step), the final evaluation with its pictures (about 1.3 passes) and a reserve of
    5 % + 5 s. ``V`` is 3, or fewer when validating would take more than 40 % of
    the time. ``max_time`` stops the training where the estimate was too low.

    Raises:
        ConfigurationError: the budget leaves no time for even a few steps (the message
            says how long one step and one validation take, and what budget would do).
    """
    from pixelseg.training.precise_bn import recalibration_seconds

    reserve = 0.05 * budget_s + 5.0
    available = budget_s - elapsed_s - reserve
    # forward passes only, over at most the training set
    recalibration_s = recalibration_seconds(min(PRECISE_BN_BATCHES, iterations_per_epoch), step_s)
    final_s = 1.3 * validation_pass_s  # the closing evaluation with its pictures
    for validations in (3, 2, 1):
        train_s = available - final_s - validations * (validation_pass_s + recalibration_s)
        if train_s >= 0.6 * available or validations == 1:
            break
    if train_s < step_s:
        need = elapsed_s + reserve + final_s + validation_pass_s + recalibration_s + 10 * step_s
        raise ConfigurationError(
            f"a time budget of {budget_s:.0f} s leaves no time to train: one step takes {step_s:.1f} s and one "
            f"validation pass {validation_pass_s:.1f} s here, and {elapsed_s:.0f} s went to reading and measuring; "
            f"give at least {math.ceil(need / 60)} minutes"
        )
    iterations = max(1, int(train_s // step_s))
    epochs = max(1, iterations // iterations_per_epoch)
    total = epochs * iterations_per_epoch
    recipe.set("options.max_epochs", epochs, f"{train_s:.0f} s for training at {step_s:.2f} s per step "
               f"(measured) = {iterations} steps, {iterations_per_epoch} per epoch")
    recipe.set("options.validation_frequency", max(1, math.ceil(total / validations)),
               f"{validations} validation{'s' if validations > 1 else ''} of {validation_pass_s:.1f} s each "
               "(measured) within the budget")
    recipe.set("options.warmup_epochs", 1 if epochs >= 5 else 0,
               "one warm-up epoch before the poly decay" if epochs >= 5 else "too few epochs for a warm-up")
    recipe.set("options.max_time", round(available - final_s, 1),
               "a hard stop for training and its validations, should a step take longer than measured")
    if recipe.options.get("fit_to_max_time") is not False:  # a config's explicit False is kept
        recipe.set("options.fit_to_max_time", True, "at the end of each epoch, the epochs are re-planned from the "
                   "steps of this run (a step measured before training is not the step of training)")
    return recipe
