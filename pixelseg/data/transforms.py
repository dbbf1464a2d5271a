"""Pair transforms on (image, label): resizing that keeps masks exact.

Masks are resized only by nearest-neighbour sampling at pixel centres: output pixel j
takes source pixel ``floor((j + 0.5) * in / out)`` (PyTorch's ``"nearest-exact"``,
OpenCV's ``INTER_NEAREST_EXACT``), which stays aligned with an image resized by bilinear
interpolation with ``align_corners=False``: a 6-pixel-wide mask shrunk to 2 columns keeps
source columns 1 and 4, where the image is sampled too. Never any interpolation of labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pixelseg.utils.sizes import parse_size

__all__ = ["Resize", "resize_label", "resize_image", "nearest_indices"]


def nearest_indices(in_size: int, out_size: int) -> np.ndarray:
    """Source index of each output pixel for nearest sampling at pixel centres (int64)."""
    idx = np.floor((np.arange(out_size) + 0.5) * (in_size / out_size)).astype(np.int64)
    return np.minimum(idx, in_size - 1)


def resize_label(label: Any, size: Any) -> Any:
    """Resize a label map (H x W or N x H x W, numpy or tensor, any dtype) to ``size``
    (h, w) by nearest sampling at pixel centres; values are never mixed."""
    h, w = parse_size(size, "size", square=True)
    in_h, in_w = label.shape[-2], label.shape[-1]
    rows, cols = nearest_indices(in_h, h), nearest_indices(in_w, w)
    if isinstance(label, torch.Tensor):
        rows_t = torch.from_numpy(rows).to(label.device)
        cols_t = torch.from_numpy(cols).to(label.device)
        return label.index_select(-2, rows_t).index_select(-1, cols_t)
    label = np.asarray(label)
    return np.ascontiguousarray(label[..., rows, :][..., cols])


def resize_image(image: Any, size: Any, antialias: bool = True) -> Any:
    """Resize an image by bilinear interpolation (``align_corners=False``; antialiased
    when shrinking, which approximates area averaging).

    Args:
        image: numpy H x W x C (uint8, uint16 or float) or tensor C x H x W / N x C x H x W.
        size: (h, w).

    Returns:
        The same kind, layout and dtype (integers rounded and clipped).
    """
    h, w = parse_size(size, "size", square=True)
    if isinstance(image, torch.Tensor):
        x = image.unsqueeze(0) if image.dim() == 3 else image
        dtype = x.dtype
        y = F.interpolate(x.float(), size=(h, w), mode="bilinear", align_corners=False, antialias=antialias)
        if not dtype.is_floating_point:
            info = torch.iinfo(dtype)
            y = y.round_().clamp_(info.min, info.max)
        y = y.to(dtype)
        return y[0] if image.dim() == 3 else y
    arr = np.asarray(image)
    squeeze = arr.ndim == 2
    if squeeze:
        arr = arr[:, :, None]
    x = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))).unsqueeze(0).float()
    y = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=antialias)[0]
    out = y.numpy().transpose(1, 2, 0)
    if arr.dtype.kind in "iu":
        info = np.iinfo(arr.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    out = np.ascontiguousarray(out.astype(arr.dtype))
    return out[:, :, 0] if squeeze else out


class Resize:
    """Pair transform resizing image and label to ``size`` = (h, w).

    Image: bilinear (antialiased when shrinking). Label: nearest at pixel centres, so it
    stays aligned with the image and keeps its exact values. Works on numpy pairs (H x W x C, H x W) and tensor pairs (C x H x W, H x W, or
    batches N x C x H x W, N x H x W). ``label`` may be None.
    """

    def __init__(self, size: Any, antialias: bool = True) -> None:
        self.size = parse_size(size, "size", square=True)
        self.antialias = antialias

    def __call__(self, image: Any, label: Any = None) -> tuple[Any, Any]:
        image = resize_image(image, self.size, antialias=self.antialias)
        if label is not None:
            label = resize_label(label, self.size)
        return image, label

    def __repr__(self) -> str:
        return f"Resize({self.size})"
