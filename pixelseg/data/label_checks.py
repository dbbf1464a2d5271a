"""Checks on what label files read as, for the silent wrong answers no single file shows.

The one here: **every object pixel is void.** Binary masks stored as 0/255 and read with
the VOC convention (255 = void) come out as class 0 and void only; every other class has
no pixel, and nothing fails (mmsegmentation #2598, pytorch-UNet #14, SegNeXt #15).
:func:`void_label_problem` finds it on a sample of a datastore (for ``pixelseg info``);
:class:`VoidWatch` finds it, at no extra reading cost, in the first files a datastore reads
(for training), and warns once with :class:`LabelCheckWarning`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from pixelseg.conventions import VOID

__all__ = ["LabelCheckWarning", "VoidWatch", "void_label_problem", "void_only_message"]

#: Files a datastore reads before :class:`VoidWatch` decides.
WATCHED_FILES = 4
#: With more than two classes, the share of void pixels below which nothing is said.
MIN_VOID_SHARE = 0.05


class LabelCheckWarning(UserWarning):
    """A label set reads as something almost surely wrong (e.g. every object pixel void)."""


@dataclass
class _Tally:
    files: list[str] = field(default_factory=list)
    class_pixels: np.ndarray | None = None
    void: int = 0
    total: int = 0
    void_values: dict[str, int] = field(default_factory=dict)

    def add(self, labels: np.ndarray, raw: np.ndarray | None, source: str, k: int) -> None:
        hist = np.bincount(np.asarray(labels, dtype=np.uint8).reshape(-1), minlength=256)
        self.class_pixels = hist[:k] if self.class_pixels is None else self.class_pixels + hist[:k]
        self.void += int(hist[VOID])
        self.total += int(labels.size)
        self.files.append(source)
        if raw is not None and hist[VOID] and raw.shape[:2] == labels.shape:
            stored = raw[labels == VOID]
            values, counts = np.unique(stored, axis=0, return_counts=True) if stored.ndim == 2 else \
                np.unique(stored, return_counts=True)
            for v, c in zip(values[:8], counts[:8], strict=False):
                key = str(tuple(int(x) for x in v)) if np.ndim(v) else str(int(v) if float(v).is_integer() else v)
                self.void_values[key] = self.void_values.get(key, 0) + int(c)


def void_only_message(tally: _Tally, class_set) -> str | None:
    """The problem sentence when only class 0 and void appear in the files of ``tally`` and
    void does (two classes; with more, when void covers at least :data:`MIN_VOID_SHARE` of
    the pixels); None otherwise."""
    k = class_set.num_classes
    if k < 2 or tally.class_pixels is None or tally.void == 0 or tally.class_pixels[1:].any():
        return None
    if k > 2 and tally.void < MIN_VOID_SHARE * tally.total:
        return None
    names = class_set.names
    shown = ", ".join(tally.files[:3]) + (f" and {len(tally.files) - 3} more" if len(tally.files) > 3 else "")
    stored = sorted(tally.void_values, key=lambda v: -tally.void_values[v])
    value = stored[0] if stored else "the void value"
    values = f" (stored as {', '.join(stored[:3])})" if stored else ""
    return (
        f"in {len(tally.files)} label file(s) read ({shown}) every pixel is {names[0]!r} or void: void{values} "
        f"covers {100 * tally.void / max(tally.total, 1):.0f}% of the pixels and {names[1:] if k > 2 else names[1]!r} "
        f"has no pixel. Binary masks stored as 0/{value} read with {value} as void (the VOC convention) look like "
        f"this: if {value} marks {names[1]!r}, declare label_ids [{class_set.label_ids[0][0]}, {value}] and no void id"
    )


def void_label_problem(pxds, sample: int = 8) -> str | None:
    """Read up to ``sample`` label files of ``pxds`` (evenly spaced, first and last
    included) and return the problem sentence of :func:`void_only_message`, or None.

    Args:
        pxds: a :class:`~pixelseg.data.PixelLabelDatastore`.
        sample: how many files to read at most.

    Raises:
        DataError: a file that cannot be read or encoded (as ``pxds.read``).
    """
    n = len(pxds)
    tally = _Tally()
    for i in sorted({int(round(j)) for j in np.linspace(0, n - 1, min(sample, n))}) if n else []:
        labels, raw = pxds.read_with_raw(i, watch=False)
        tally.add(labels, raw, str(pxds.files[i]), pxds.class_set.num_classes)
    return void_only_message(tally, pxds.class_set)


@dataclass
class VoidWatch:
    """Watches the first :data:`WATCHED_FILES` files (or all, if fewer) a datastore reads;
    then warns once if they show the problem of :func:`void_only_message`."""

    size: int
    tally: _Tally = field(default_factory=_Tally)
    done: bool = False

    def observe(self, labels: np.ndarray, raw: np.ndarray | None, source: str, class_set) -> None:
        """Count one file read; at the last watched file, warn (stacklevel: the reader's caller)."""
        if self.done or source in self.tally.files:
            return
        self.tally.add(labels, raw, source, class_set.num_classes)
        if len(self.tally.files) >= min(self.size, WATCHED_FILES):
            self.done = True
            message = void_only_message(self.tally, class_set)
            if message:
                warnings.warn(f"PixelLabelDatastore: {message}", LabelCheckWarning, stacklevel=4)
