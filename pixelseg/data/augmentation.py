"""Joint image/label augmentation with kornia: geometry shared exactly, labels never mixed.

All geometry of one sample (horizontal flip, random scale, rotation, translation and the
crop window) is folded into one affine matrix and applied once with
``kornia.geometry.transform.warp_affine``: bilinear for the image, nearest for the label.
Coordinates are pixel indices with pixel centres at integers (``align_corners=True`` in
kornia's sense), so image and label stay aligned to the pixel. Label pixels that come from
outside the source are void (255); image pixels there are 0. Colour jitter uses
``kornia.enhance`` and touches the image only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import torch

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError

__all__ = ["Augmenter", "AugmentationSettings", "PRESETS"]


@dataclass(frozen=True)
class AugmentationSettings:
    """Ranges of the random transforms (0 / (1, 1) / False switch one off).

    flip: probability of a horizontal flip. scale: (min, max) zoom factor, sampled
    log-uniformly. rotate: max rotation in degrees (uniform in +-rotate). translate: max
    shift as a fraction of height/width. brightness: max additive change (values in
    [0, 1]). contrast, saturation: max relative change (factor in 1 +- value). hue: max hue
    shift as a fraction of the full circle.
    """

    flip: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    rotate: float = 0.0
    translate: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0

    def validate(self) -> AugmentationSettings:
        lo, hi = self.scale
        if not 0 < lo <= hi:
            raise ConfigurationError(f"Augmenter: scale must be (min, max) with 0 < min <= max, got {self.scale}")
        if not 0 <= self.flip <= 1:
            raise ConfigurationError(f"Augmenter: flip is a probability in [0, 1], got {self.flip}")
        for f in ("rotate", "translate", "brightness", "contrast", "saturation", "hue"):
            if getattr(self, f) < 0:
                raise ConfigurationError(f"Augmenter: {f} must be >= 0, got {getattr(self, f)}")
        if self.contrast >= 1 or self.saturation >= 1 or self.hue > 0.5:
            raise ConfigurationError("Augmenter: contrast and saturation must be < 1 and hue <= 0.5")
        return self

    @property
    def geometric(self) -> bool:
        return self.flip > 0 or self.scale != (1.0, 1.0) or self.rotate > 0 or self.translate > 0

    @property
    def photometric(self) -> bool:
        return self.brightness > 0 or self.contrast > 0 or self.saturation > 0 or self.hue > 0


#: Named presets. "default": flip, scale 0.75-1.5, light colour jitter (cheap enough for
#: 2 CPU cores). "strong": the DeepLab-style range 0.5-2, rotation, translation, hue.
#: "overhead": for imagery without an "up" (aerial, satellite, microscopy): any rotation
#: with flips (so every rotation and mirror image of the square grid), scale 0.8-1.25.
PRESETS: dict[str, AugmentationSettings] = {
    "none": AugmentationSettings(),
    "flip": AugmentationSettings(flip=0.5),
    "light": AugmentationSettings(flip=0.5, brightness=0.1, contrast=0.1),
    "default": AugmentationSettings(flip=0.5, scale=(0.75, 1.5), brightness=0.1, contrast=0.1, saturation=0.1),
    "overhead": AugmentationSettings(flip=0.5, scale=(0.8, 1.25), rotate=180.0, brightness=0.1, contrast=0.1),
    "strong": AugmentationSettings(
        flip=0.5, scale=(0.5, 2.0), rotate=10.0, translate=0.1,
        brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02,
    ),
}  # fmt: skip


class Augmenter:
    """Random joint augmentation of (image, label) pairs.

    Args:
        preset: "default" (flip, scale 0.75-1.5, colour jitter), "strong", "light",
            "flip" or "none"; see :data:`PRESETS`.
        crop_size: (h, w) of a random crop taken after scaling (image zoomed out below the
            crop size is padded: image 0, label void); None keeps the input size.
        seed: None: randomness comes from torch's global RNG (so ``torch.manual_seed`` /
            Lightning's ``seed_everything`` make it reproducible, and DataLoader workers
            differ). An int: an own stream (numpy PCG64) from the seed, the call count and,
            inside a DataLoader worker, the worker's torch seed.
        **overrides: any field of :class:`AugmentationSettings` (flip, scale, rotate,
            translate, brightness, contrast, saturation, hue) replacing the preset's.

    Call: ``augmenter(image, label) -> (image, label)`` with a sample (image 3 x H x W
    float32 in [0, 1], label H x W int64, void 255) or a batch (N x 3 x H x W, N x H x W),
    on any device; every sample of a batch gets its own random parameters. numpy pairs
    (H x W x 3 uint8, H x W uint8) are converted to tensors first. Picklable, so it can be a
    ``PairedDatastore.transform`` in DataLoader workers.

    Raises:
        ConfigurationError: unknown preset or bad ranges. DataError never: shapes are
        checked and reported as ConfigurationError naming them.
    """

    def __init__(
        self,
        preset: str = "default",
        crop_size: Any = None,
        seed: int | None = None,
        **overrides: Any,
    ) -> None:
        if preset not in PRESETS:
            raise ConfigurationError(f"Augmenter: unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        names = {f.name for f in fields(AugmentationSettings)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ConfigurationError(f"Augmenter: unknown options {unknown}; known: {sorted(names)}")
        if "scale" in overrides:
            overrides["scale"] = tuple(float(v) for v in overrides["scale"])
        self.settings = replace(PRESETS[preset], **overrides).validate()
        self.preset = preset
        if crop_size is not None:
            if isinstance(crop_size, int):
                crop_size = (crop_size, crop_size)
            crop_size = tuple(int(v) for v in crop_size)
            if len(crop_size) != 2 or min(crop_size) < 1:
                raise ConfigurationError(f"Augmenter: crop_size must be (h, w) >= 1, got {crop_size}")
        self.crop_size = crop_size
        self.seed = seed
        self._calls = 0

    def __repr__(self) -> str:
        return f"Augmenter(preset={self.preset!r}, crop_size={self.crop_size}, seed={self.seed}, settings={self.settings})"

    # ------------------------------------------------------------------ randomness
    def _rng(self) -> np.random.Generator:
        self._calls += 1
        if self.seed is None:
            entropy = int(torch.randint(0, 2**62, (1,)).item())
            return np.random.Generator(np.random.PCG64(entropy))
        info = torch.utils.data.get_worker_info()
        worker = torch.initial_seed() % 2**63 if info is not None else 0
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(self.seed), worker, self._calls])))

    # ------------------------------------------------------------------ call
    def __call__(self, image: Any, label: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(image, torch.Tensor) or not isinstance(label, torch.Tensor):
            from pixelseg.data.pairing import to_tensors

            image, label = to_tensors(image, label)
        single = image.dim() == 3
        if single:
            image, label = image.unsqueeze(0), label.unsqueeze(0)
        if image.dim() != 4 or label.dim() != 3 or image.shape[0] != label.shape[0] or image.shape[-2:] != label.shape[-2:]:
            raise ConfigurationError(
                f"Augmenter: expected image (N x) C x H x W and label (N x) H x W of the same size, "
                f"got {tuple(image.shape)} and {tuple(label.shape)}"
            )
        if not image.dtype.is_floating_point:
            raise ConfigurationError(f"Augmenter: image must be float in [0, 1], got {image.dtype}")
        rng = self._rng()
        n, _, h, w = image.shape
        out_h, out_w = self.crop_size or (h, w)
        s = self.settings
        if s.geometric or (out_h, out_w) != (h, w):
            image, label = self._geometry(image, label, rng, out_h, out_w)
        if s.photometric:
            image = self._colour(image, rng)
        if single:
            return image[0], label[0]
        return image, label

    def _geometry(self, image, label, rng, out_h, out_w):
        import kornia

        s = self.settings
        n, _, h, w = image.shape
        flip = rng.random(n) < s.flip
        log_lo, log_hi = math.log(s.scale[0]), math.log(s.scale[1])
        scale = np.exp(rng.uniform(log_lo, log_hi, n))
        angle = np.deg2rad(rng.uniform(-s.rotate, s.rotate, n))
        shift = rng.uniform(-s.translate, s.translate, (n, 2)) * (w, h)
        # crop window: uniform over the positions keeping it inside the scaled image
        room_x = np.maximum(0.0, (scale * w - out_w) / 2)
        room_y = np.maximum(0.0, (scale * h - out_h) / 2)
        offset = np.stack([rng.uniform(-1, 1, n) * room_x, rng.uniform(-1, 1, n) * room_y], axis=1)
        matrices = np.zeros((n, 2, 3))
        for i in range(n):
            fx = -1.0 if flip[i] else 1.0
            c, si = math.cos(angle[i]), math.sin(angle[i])
            linear = scale[i] * np.array([[c, -si], [si, c]]) @ np.diag([fx, 1.0])
            centre_in = np.array([(w - 1) / 2, (h - 1) / 2])
            centre_out = np.array([(out_w - 1) / 2, (out_h - 1) / 2])
            matrices[i, :, :2] = linear
            matrices[i, :, 2] = centre_out + shift[i] - offset[i] - linear @ centre_in
        m = torch.as_tensor(matrices, dtype=torch.float32, device=image.device)
        warp = kornia.geometry.transform.warp_affine
        image = warp(image, m, (out_h, out_w), mode="bilinear", padding_mode="zeros", align_corners=True)
        # labels: nearest sampling of (label + 1); 0 comes only from outside the source -> void
        shifted = (label.to(torch.float32) + 1).unsqueeze(1)
        warped = warp(shifted, m, (out_h, out_w), mode="nearest", padding_mode="zeros", align_corners=True)
        warped = warped[:, 0].round_().to(label.dtype)
        label = torch.where(warped == 0, torch.full_like(warped, VOID), warped - 1)
        return image.clamp_(0, 1), label

    def _colour(self, image, rng):
        import kornia

        s = self.settings
        n = image.shape[0]

        def factors(low, high):
            return torch.as_tensor(rng.uniform(low, high, n), dtype=image.dtype, device=image.device)

        if image.shape[1] != 3 and (s.saturation > 0 or s.hue > 0):
            raise ConfigurationError(f"Augmenter: saturation/hue jitter needs 3-channel images, got {image.shape[1]}")
        if s.brightness > 0:
            image = kornia.enhance.adjust_brightness(image, factors(-s.brightness, s.brightness))
        if s.contrast > 0:
            image = kornia.enhance.adjust_contrast(image, factors(1 - s.contrast, 1 + s.contrast))
        if s.saturation > 0:
            image = kornia.enhance.adjust_saturation(image, factors(1 - s.saturation, 1 + s.saturation))
        if s.hue > 0:
            image = kornia.enhance.adjust_hue(image, factors(-s.hue, s.hue) * 2 * math.pi)
        return image.clamp_(0, 1)
