"""Timing forward passes, for plans that must fit a time budget (``--time-budget``,
``TrainingOptions(fit_to_max_time=True)``)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["time_forward_passes"]


def time_forward_passes(network: nn.Module, inputs: Iterable[torch.Tensor], count: int, total: int,
                        warmup: int = 0) -> float:
    """Seconds that ``total`` forward passes of ``network`` take in eval mode, estimated from
    the mean of ``count`` passes after ``warmup`` untimed ones.

    Args:
        network: run under ``torch.inference_mode()``; its train/eval mode is restored after.
        inputs: the batches, each an ``(N, C, H, W)`` tensor on the network's device. When it
            is a generator, the time to produce each batch (reading, decoding, collation) is
            timed with its pass, as it is in a real pass over the data.
        count: passes timed (fewer when ``inputs`` runs out; 0 when none is left after the
            warm-up, which returns 0.0).
        total: passes the estimate is for, e.g. the batches of a validation loader.
        warmup: passes run first and not timed (the first pays for allocations).
    """
    was_training = network.training
    network.eval()
    timed, iterator = 0, iter(inputs)
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                batch = next(iterator, None)
                if batch is None:
                    return 0.0
                network(batch)
            start = time.perf_counter()
            for batch in iterator:
                network(batch)
                timed += 1
                if timed >= count:
                    break
            elapsed = time.perf_counter() - start
    finally:
        network.train(was_training)
    return elapsed / timed * total if timed else 0.0
