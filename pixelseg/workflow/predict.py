"""Prediction at a network's training resolution, scored at the labels' native resolution."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


@torch.inference_mode()
def predict_at_size(trained, images, size: tuple[int, int] | None, batch_size: int = 4) -> list[np.ndarray]:
    """Label every image of ``images`` with ``trained``, working at ``size``.

    Each H x W x 3 uint8 image is resized (bilinear, antialiased) to ``size`` = (h, w),
    the network's logits are resized back to H x W (bilinear) and the class with the
    highest score is taken, so the label maps (H x W uint8) match the ground truth's grid.
    ``size=None`` predicts at the native size.
    """
    net = trained.network.eval()
    out: list[np.ndarray] = []
    batch: list[np.ndarray] = []

    def flush() -> None:
        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float().div_(255)
        native = x.shape[-2:]
        if size is not None and tuple(size) != tuple(native):
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        logits = net(x.contiguous(memory_format=torch.channels_last))
        if logits.shape[-2:] != native:
            logits = F.interpolate(logits, size=native, mode="bilinear", align_corners=False)
        out.extend(logits.argmax(1).to(torch.uint8).numpy())
        batch.clear()

    for i in range(len(images)):
        image = images.read(i)
        if batch and image.shape != batch[0].shape:
            flush()
        batch.append(image)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    return out
