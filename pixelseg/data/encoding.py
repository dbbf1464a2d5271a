"""Raw label values -> class indices, exactly, or snapping near misses within a tolerance.

A raw value that is neither a class ID nor a void ID is a :class:`~pixelseg.errors.DataError`
naming the source, the values and their pixel counts (never a silent assignment), with a
hint that suggests a tolerance only when it would read every value right; with
``tolerance > 0`` a near-miss value is snapped onto the nearest declared ID under the rules
of :mod:`pixelseg.data.snapping`, and a :class:`LabelSnapWarning` (or a :class:`SnapLog`)
says what was snapped.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.data.ids import format_key, id_key
from pixelseg.data.snapping import (
    AMBIGUITY_RATIO,
    MAX_TOLERANCE,
    LabelSnapWarning,
    SnapLog,
    check_tolerance,
    is_ambiguous,
    nearest_classes,
)
from pixelseg.errors import DataError

__all__ = ["LabelSnapWarning", "LabelEncoder"]


_UNMAPPED = -1
_MAX_LISTED = 20


def _raw_keys(raw: np.ndarray, rgb: bool, source: str) -> np.ndarray:
    """The raw label array as an H x W integer array of lookup keys (see :mod:`pixelseg.data.ids`)."""
    if raw.dtype.kind == "b":
        raw = raw.astype(np.uint8)
    if raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)) or not np.array_equal(raw, np.round(raw)):
            raise DataError(
                f"{source}: label values are floating point and not all whole numbers; "
                "label files must hold integer IDs"
            )
        raw = raw.astype(np.int64)
    if raw.dtype.kind not in "iu":
        raise DataError(f"{source}: label array has dtype {raw.dtype}; expected integers")
    if raw.ndim == 3 and raw.shape[2] == 1:
        raw = raw[:, :, 0]
    if rgb:
        if raw.ndim != 3 or raw.shape[2] not in (3, 4):
            raise DataError(
                f"{source}: label array of shape {raw.shape} has no colour channels, but the "
                "class set declares RGB label ids"
            )
        colours = raw[:, :, :3]
        if colours.min(initial=0) < 0 or colours.max(initial=0) > 255:
            raise DataError(f"{source}: colour mask values outside 0..255")
        colours = colours.astype(np.int64)
        return (colours[:, :, 0] << 16) | (colours[:, :, 1] << 8) | colours[:, :, 2]
    if raw.ndim == 3 and raw.shape[2] in (3, 4):
        grey = raw[:, :, 0]
        if not (np.array_equal(grey, raw[:, :, 1]) and np.array_equal(grey, raw[:, :, 2])):
            raise DataError(
                f"{source}: the label file holds colours (R, G, B differ), but the class set "
                "declares grey label ids; declare RGB triplets as label_ids"
            )
        raw = grey
    if raw.ndim != 2:
        raise DataError(f"{source}: label array has shape {raw.shape}; expected H x W")
    return raw


class LabelEncoder:
    """The lookup from a class set's raw IDs to class indices (what :meth:`ClassSet.encode` uses).

    Args:
        names: the K class names (named in messages).
        label_ids: per class, a sequence of normalised IDs (ints, or ``(r, g, b)`` tuples).
        void_ids: normalised IDs read as :data:`~pixelseg.conventions.VOID`.
        rgb: True when the IDs are RGB triplets.
    """

    def __init__(self, names: Sequence[str], label_ids: Sequence[Sequence[Any]],
                 void_ids: Sequence[Any], rgb: bool) -> None:
        self._names = list(names)
        self._ids = [tuple(ids) for ids in label_ids]
        self._void_ids = tuple(void_ids)
        self._rgb = rgb
        keys, values = [], []
        for index, ids in enumerate(self._ids):
            for v in ids:
                keys.append(id_key(v))
                values.append(index)
        for v in self._void_ids:
            keys.append(id_key(v))
            values.append(VOID)
        order = np.argsort(keys)
        #: sorted int64 keys of every raw ID, and the uint8 class index (or VOID) of each
        self.keys = np.asarray(keys, dtype=np.int64)[order]
        self.values = np.asarray(values, dtype=np.uint8)[order]

    def encode(self, raw: np.ndarray, source: str = "<array>", tolerance: int = 0,
               snaps: SnapLog | None = None) -> np.ndarray:
        """Map a raw label array onto class indices; see :meth:`ClassSet.encode` for the
        arguments, the H x W uint8 result and the DataError raised."""
        tolerance = check_tolerance(tolerance)
        raw = np.asarray(raw)
        keys = _raw_keys(raw, self._rgb, source)
        known, values = self.keys, self.values
        if keys.dtype == np.uint8 or keys.dtype == np.uint16:
            lut = np.full(256 if keys.dtype == np.uint8 else 65536, _UNMAPPED, dtype=np.int16)
            inside = known[(known >= 0) & (known < lut.size)]
            lut[inside] = values[np.searchsorted(known, inside)]
            out = lut[keys]
        else:
            keys = keys.astype(np.int64, copy=False)
            pos = np.clip(np.searchsorted(known, keys), 0, len(known) - 1)
            out = np.where(known[pos] == keys, values[pos].astype(np.int16), np.int16(_UNMAPPED))
        bad = out == _UNMAPPED
        if bad.any():
            bad_keys, counts = np.unique(keys[bad], return_counts=True)
            if tolerance > 0:
                out = self._snap(out, keys, bad_keys, counts, tolerance, source, snaps)
            else:
                raise DataError(self._unmapped_message(bad_keys, counts, source))
        return out.astype(np.uint8)

    def _unmapped_message(self, bad_keys: np.ndarray, counts: np.ndarray, source: str) -> str:
        order = np.argsort(-counts, kind="stable")
        listed = ", ".join(
            f"{format_key(int(bad_keys[i]), self._rgb)}: {int(counts[i])} pixels"
            for i in order[:_MAX_LISTED]
        )
        more = f" and {len(order) - _MAX_LISTED} more values" if len(order) > _MAX_LISTED else ""
        declared = ", ".join(
            f"{n}={ids[0] if len(ids) == 1 else list(ids)}" for n, ids in zip(self._names, self._ids, strict=True)
        )
        void = f"; void ids {list(self._void_ids)}" if self._void_ids else "; no void ids"
        return (
            f"{source}: {len(order)} label value(s) map to no class and no void id: {listed}{more} "
            f"(declared ids: {declared}{void}). Declare them in the ClassSet (label_ids or "
            f"void_ids){self._hint(bad_keys)}"
        )

    def _name(self, value: int) -> str:
        return "void" if value == VOID else repr(self._names[value])

    def _hint(self, bad_keys: np.ndarray) -> str:
        """How else the values could be read: a tolerance only when it would snap every value
        unambiguously onto one class, a threshold for two-class grey masks."""
        hints = []
        if not self._rgb and len(self._names) == 2 and all(len(ids) == 1 for ids in self._ids):
            low, high = sorted(int(ids[0]) for ids in self._ids)
            cut = (low + high + 1) // 2 if high > low + 1 else max(1, (int(bad_keys.max(initial=1)) + 1) // 2)
            hints.append(f"for a two-class mask with soft (anti-aliased) edges pass threshold={cut} "
                         f"(values >= {cut} are the class of id {high})")
        farthest, blocker = 0, None
        for key in bad_keys.tolist()[:1000]:
            (d1, v1, _), second = nearest_classes(key, self.keys, self.values, self._rgb)
            if d1 > MAX_TOLERANCE or is_ambiguous(d1, second):
                blocker = (key, d1, v1, second)
                break
            farthest = max(farthest, d1)
        if blocker is None:
            hints.append(f"if they are compression noise, pass tolerance={farthest} to snap them")
        else:
            key, d1, v1, second = blocker
            near = f" and {second[0]} from {self._name(second[1])}" if second is not None else ""
            hints.append(f"they are not near misses (e.g. {format_key(key, self._rgb)} is {d1} from "
                         f"{self._name(v1)}{near}), so no tolerance would read them right")
        return "; " + "; ".join(hints)

    def _snap(self, out, keys, bad_keys, counts, tolerance, source, snaps):
        report, unsnapped, unsnapped_counts = [], [], []
        for key, count in zip(bad_keys.tolist(), counts.tolist(), strict=True):
            (d1, target, id_key_), second = nearest_classes(key, self.keys, self.values, self._rgb)
            if d1 > tolerance:
                unsnapped.append(key)
                unsnapped_counts.append(count)
                continue
            if is_ambiguous(d1, second):
                raise DataError(
                    f"{source}: label value {format_key(key, self._rgb)} ({count} pixels) is {d1} from "
                    f"{self._name(target)} but {second[0]} from {self._name(second[1])}; not snapped (a value is "
                    f"snapped only when every other class is {AMBIGUITY_RATIO} times as far): declare it"
                )
            out[keys == key] = target
            report.append((format_key(key, self._rgb), f"{format_key(id_key_, self._rgb)} ({self._name(target)})",
                           count))
        if unsnapped:
            raise DataError(
                self._unmapped_message(np.array(unsnapped), np.array(unsnapped_counts), source)
                + f" (none within tolerance {tolerance})"
            )
        if snaps is not None:
            snaps.add(source, report)
            return out
        total = sum(c for _, _, c in report)
        warnings.warn(
            f"{source}: snapped {total} pixels within tolerance {tolerance}: "
            + "; ".join(f"{v} -> {t}: {c} pixels" for v, t, c in report),
            LabelSnapWarning,
            stacklevel=4,  # _snap <- LabelEncoder.encode <- ClassSet.encode <- its caller
        )
        return out
