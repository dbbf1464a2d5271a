"""``summary(net, image_size)``: a table of layers with output shapes, parameters and GFLOPs
(what MATLAB's ``analyzeNetwork`` shows), from one forward pass with forward hooks and
``torch.utils.flop_counter.FlopCounterMode``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from pixelseg.errors import ConfigurationError


def summary(net: nn.Module, image_size: Sequence[int]) -> pd.DataFrame:
    """Layer table of ``net`` for one image of ``image_size``.

    Args:
        net: a SegmentationNetwork (or any module taking N x C x H x W).
        image_size: (H, W) or (H, W, C); C defaults to ``net.in_channels`` (or 3).

    Returns:
        pandas DataFrame, one row per executed leaf module in definition order, columns
        ``layer`` (qualified name), ``type``, ``output_shape`` (tuple, batch of 1),
        ``parameters`` (int) and ``gflops`` (float; 1 multiply-add = 2 FLOPs, counted for
        convolutions and matrix products). ``df.attrs`` holds ``total_parameters``,
        ``trainable_parameters`` and ``total_gflops``; ``print(df.to_string())`` prints it.

    Raises:
        ConfigurationError: image_size is not (H, W) or (H, W, C) of positive integers.
    """
    channels = getattr(net, "in_channels", 3)
    try:
        size = tuple(int(v) for v in image_size)
    except (TypeError, ValueError):
        size = ()
    if len(size) not in (2, 3) or min(size) < 1:
        raise ConfigurationError(f"image_size={image_size!r} is not allowed: use (H, W) or (H, W, C) with values >= 1")
    if len(size) == 3:
        channels = size[2]
    leaves = [(name, m) for name, m in net.named_modules() if name and not any(True for _ in m.children())]
    shapes: dict[str, tuple[int, ...]] = {}

    def make_hook(name: str):
        def hook(_module, _inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            if isinstance(out, torch.Tensor):
                shapes[name] = tuple(out.shape)
        return hook

    handles = [m.register_forward_hook(make_hook(name)) for name, m in leaves]
    was_training = net.training
    param = next(net.parameters(), None)
    x = torch.zeros(1, channels, size[0], size[1],
                    device=param.device if param is not None else "cpu",
                    dtype=param.dtype if param is not None else torch.float32)
    counter = FlopCounterMode(display=False)
    try:
        net.eval()
        with torch.no_grad(), counter:
            net(x)
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    flops = counter.get_flop_counts()
    prefix = type(net).__name__
    rows = []
    for name, module in leaves:
        if name not in shapes:
            continue
        module_flops = sum(flops.get(f"{prefix}.{name}", {}).values())
        rows.append({
            "layer": name,
            "type": type(module).__name__,
            "output_shape": shapes[name],
            "parameters": sum(p.numel() for p in module.parameters(recurse=False)),
            "gflops": module_flops / 1e9,
        })
    table = pd.DataFrame(rows, columns=["layer", "type", "output_shape", "parameters", "gflops"])
    table.attrs["total_parameters"] = sum(p.numel() for p in net.parameters())
    table.attrs["trainable_parameters"] = sum(p.numel() for p in net.parameters() if p.requires_grad)
    table.attrs["total_gflops"] = counter.get_total_flops() / 1e9
    return table
