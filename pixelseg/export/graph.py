"""``DeploymentGraph``: what :func:`~pixelseg.export.export_onnx` traces, the network with the
post-processing of :func:`~pixelseg.inference.semanticseg` inside it.

Doing the resizes and the argmax in the ONNX graph lets onnxruntime run them with its own
threads instead of NumPy after the model: for ``camvid-fast`` (trained at 216 x 288) on a
360 x 480 image, the NumPy resize of the 11 score maps back to 360 x 480 and their argmax took
18 ms of the 33 ms per image (bench/RESULTS.md, issue 18).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: names of the graph's input and outputs
INPUT_NAME = "image"
OUTPUT_NAME = "logits"
LABELS_NAME = "labels"


class DeploymentGraph(nn.Module):
    """A segmentation network with its deployment pre- and post-processing.

    ``forward(x)`` takes float32 N x C x H x W in [0, 1] and returns ``(logits, labels)``:
    logits float32 N x K x H x W and labels N x H x W, the argmax over K (the first class on
    ties, as NumPy and torch), uint8 for K <= 256 classes, else int64.

    Args:
        network: the segmentation network (N x C x h x w in [0, 1] -> N x K x h x w logits).
        inference_size: (h, w) or None. When given, ``x`` is resized to h x w (bilinear,
            ``align_corners=False``, antialiased: for an axis that grows this is plain bilinear,
            so it matches ``semanticseg``, which antialiases only when shrinking), the network
            runs there, and its logits are resized back to H x W (bilinear, not antialiased),
            as :func:`~pixelseg.inference.semanticseg` does with ``input_size``.
    """

    def __init__(self, network: nn.Module, inference_size: tuple[int, int] | None = None):
        super().__init__()
        self.network = network
        self.inference_size = tuple(int(v) for v in inference_size) if inference_size is not None else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        size = x.shape[-2:]
        if self.inference_size is not None:
            x = F.interpolate(x, size=self.inference_size, mode="bilinear", align_corners=False, antialias=True)
        logits = self.network(x)
        if self.inference_size is not None:
            logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        labels = logits.argmax(dim=1)
        if logits.shape[1] <= 256:
            labels = labels.to(torch.uint8)
        return logits, labels
