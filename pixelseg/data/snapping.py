"""Snapping near-miss label values onto declared IDs (``tolerance=``), safely.

A raw value that matches no declared ID is snapped onto the class of the nearest ID only
when both hold:

* it lies within ``tolerance`` of that ID (absolute difference for grey values, largest
  per-channel difference for colours), and ``tolerance`` is at most :data:`MAX_TOLERANCE`
  (snapping repairs compression or resampling noise of a few levels; a value farther from
  every class is an undeclared class, to be declared);
* every other class (void included) is at least :data:`AMBIGUITY_RATIO` times farther
  away: a value nearly as close to two classes is not snapped (an error names both).

:class:`SnapLog` gathers what was snapped over many files, for one summary warning per
dataset instead of one per file per read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pixelseg.errors import ConfigurationError

__all__ = ["AMBIGUITY_RATIO", "MAX_TOLERANCE", "LabelSnapWarning", "SnapLog", "check_tolerance", "nearest_classes"]

#: The largest tolerance accepted (levels of 0..255).
MAX_TOLERANCE = 32
#: The second-nearest class must be at least this many times as far as the nearest.
AMBIGUITY_RATIO = 2


class LabelSnapWarning(UserWarning):
    """Issued when near-miss raw values were snapped onto a class (see :mod:`pixelseg.data.snapping`)."""


def check_tolerance(tolerance) -> int:
    """``tolerance`` as an int 0..:data:`MAX_TOLERANCE`; ConfigurationError otherwise."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise ConfigurationError(f"tolerance must be an int >= 0, got {tolerance!r}")
    if tolerance > MAX_TOLERANCE:
        raise ConfigurationError(
            f"tolerance {tolerance} is above {MAX_TOLERANCE}: snapping repairs near-miss values (JPEG or "
            "resampling noise of a few levels); values farther from every class are undeclared classes: "
            "declare them in the class set (label_ids or void_ids)"
        )
    return int(tolerance)


def nearest_classes(key: int, known: np.ndarray, values: np.ndarray, rgb: bool):
    """For one raw key: (distance, class value, ID key) of the nearest class, and
    (distance, class value) of the second-nearest class (None when there is one class).

    ``known`` are the sorted ID keys, ``values`` their class index (or VOID)."""
    if rgb:
        value = np.array([(key >> 16) & 255, (key >> 8) & 255, key & 255])
        known_rgb = np.stack([(known >> 16) & 255, (known >> 8) & 255, known & 255], axis=1)
        dist = np.abs(known_rgb - value).max(axis=1)
    else:
        dist = np.abs(known.astype(np.int64) - key)
    best: dict[int, tuple[int, int]] = {}
    for d, v, k in zip(dist.tolist(), values.tolist(), known.tolist(), strict=True):
        if v not in best or d < best[v][0]:
            best[v] = (d, k)
    ranked = sorted((d, v, k) for v, (d, k) in best.items())
    second = (ranked[1][0], ranked[1][1]) if len(ranked) > 1 else None
    return ranked[0], second


def is_ambiguous(d1: int, second) -> bool:
    """True when the second-nearest class is less than AMBIGUITY_RATIO times as far."""
    return second is not None and second[0] < AMBIGUITY_RATIO * d1


@dataclass
class SnapLog:
    """What was snapped, summed over distinct files: pixels per (value -> class) and the files.

    A datastore shares one log among its subsets; ``warned`` records that its one warning
    was given (the flag travels with the datastore into DataLoader worker processes)."""

    pixels: dict[tuple[str, str], int] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    warned: bool = False

    def add(self, source: str, snaps: list[tuple[str, str, int]]) -> None:
        """Record one file's snaps: (value as shown, target as shown, pixels); a file read
        again (the next epoch) is not counted twice."""
        if source in self.files:
            return
        self.files.add(source)
        for value, target, count in snaps:
            self.pixels[(value, target)] = self.pixels.get((value, target), 0) + count

    def summary(self, tolerance: int) -> str:
        """One sentence: pixels per class, the values snapped, the number of files."""
        per_class: dict[str, int] = {}
        for (_, target), count in self.pixels.items():
            name = target.rsplit(" (", 1)[-1].rstrip(")")
            per_class[name] = per_class.get(name, 0) + count
        total = sum(self.pixels.values())
        classes = ", ".join(f"{n}: {c} pixels" for n, c in per_class.items())
        values = "; ".join(f"{v} -> {t}: {c} pixels" for (v, t), c in sorted(self.pixels.items(), key=lambda x: -x[1]))
        return (f"snapped {total} pixels in {len(self.files)} label file(s) within tolerance {tolerance} "
                f"(per class: {classes}): {values}")
