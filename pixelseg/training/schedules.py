"""Learning-rate schedules, evaluated every iteration, with a linear warm-up.

A schedule is a picklable callable ``factor(iteration) -> float`` that multiplies
``initial_learn_rate`` (for ``torch.optim.lr_scheduler.LambdaLR``). Checkpoints keep the
iteration count only; the schedule is rebuilt from the options, so a resumed run continues
the same curve (stretched to the new length when ``max_epochs`` grows).

- ``"none"``: 1.
- ``"piecewise"``: ``drop_factor ** floor(epoch / drop_period)`` (MATLAB ``"piecewise"``,
  epochs counted from the end of the warm-up).
- ``"poly"``: ``(1 - t / T) ** power`` over the iterations after warm-up (Chen et al.,
  DeepLab, TPAMI 2018).
- ``"cosine"``: ``0.5 * (1 + cos(pi * t / T))`` (Loshchilov & Hutter, SGDR, ICLR 2017,
  without restarts).

Warm-up: the factor rises linearly, ``(i + 1) / W``, over the first ``W`` iterations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["LearnRateSchedule", "schedule_from_options"]


@dataclass
class LearnRateSchedule:
    """Factor of the initial learning rate at a (0-based) iteration.

    Args:
        kind: "none", "piecewise", "poly" or "cosine".
        iterations_per_epoch: optimizer steps in one epoch (>= 1).
        total_iterations: optimizer steps of the whole run (>= 1).
        warmup_iterations: linear warm-up length (0: none).
        drop_factor, drop_period: piecewise decay (period in epochs).
        power: exponent of "poly".
    """

    kind: str
    iterations_per_epoch: int
    total_iterations: int
    warmup_iterations: int = 0
    drop_factor: float = 0.1
    drop_period: int = 10
    power: float = 0.9

    def __call__(self, iteration: int) -> float:
        if iteration < self.warmup_iterations:
            return (iteration + 1) / self.warmup_iterations
        t = iteration - self.warmup_iterations
        span = max(1, self.total_iterations - self.warmup_iterations)
        progress = min(t / span, 1.0)
        if self.kind == "none":
            return 1.0
        if self.kind == "piecewise":
            epoch = t // max(1, self.iterations_per_epoch)
            return self.drop_factor ** (epoch // self.drop_period)
        if self.kind == "poly":
            return (1.0 - progress) ** self.power
        if self.kind == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        raise ValueError(f"unknown learn_rate_schedule {self.kind!r}")


def schedule_from_options(options, iterations_per_epoch: int) -> LearnRateSchedule:
    """The schedule of a :class:`TrainingOptions` for a run of ``max_epochs`` epochs."""
    iterations_per_epoch = max(1, int(iterations_per_epoch))
    return LearnRateSchedule(
        kind=options.learn_rate_schedule,
        iterations_per_epoch=iterations_per_epoch,
        total_iterations=iterations_per_epoch * options.max_epochs,
        warmup_iterations=int(round(options.warmup_epochs * iterations_per_epoch)),
        drop_factor=options.learn_rate_drop_factor,
        drop_period=options.learn_rate_drop_period,
        power=options.poly_power,
    )
