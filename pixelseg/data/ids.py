"""Raw label IDs: the values a class is stored as in label files.

An ID is a grey value (any int, 16-bit and negative values included) or an RGB triplet
``(r, g, b)``. For lookups every ID becomes one integer key: a grey value is its own key, a
triplet packs to ``r << 16 | g << 8 | b``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixelseg.data.palettes import parse_color
from pixelseg.errors import ConfigurationError

__all__ = ["is_int", "normalise_id", "normalise_entry", "id_key", "format_key"]

LabelId = int | tuple[int, int, int]


def is_int(value: Any) -> bool:
    """True for a Python or numpy integer (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def normalise_id(value: Any, what: str) -> LabelId:
    """One ID as given by a user -> an int (grey) or an ``(r, g, b)`` tuple of ints.

    Accepted: an integer, a ``"#rrggbb"`` string, a tuple or array of three ints 0..255.

    Raises:
        ConfigurationError: anything else (a list included: lists mean several IDs), naming
            ``what`` and the value.
    """
    if is_int(value):
        return int(value)
    if isinstance(value, str) and value.startswith("#"):
        return parse_color(value, what)
    if isinstance(value, (tuple, np.ndarray)):
        return parse_color(value, what)
    raise ConfigurationError(
        f"ClassSet: {what} holds {value!r}; expected an int grey value or an RGB tuple"
    )


def normalise_entry(entry: Any, what: str) -> list[LabelId]:
    """One class's ``label_ids`` entry (one ID, or a non-empty list of IDs) -> a list of IDs.

    Raises:
        ConfigurationError: an empty list or an ID :func:`normalise_id` refuses.
    """
    if isinstance(entry, list):
        if not entry:
            raise ConfigurationError(f"ClassSet: {what} is an empty list")
        return [normalise_id(v, what) for v in entry]
    return [normalise_id(entry, what)]


def id_key(value: LabelId) -> int:
    """The integer lookup key of a normalised ID."""
    if isinstance(value, tuple):
        return (value[0] << 16) | (value[1] << 8) | value[2]
    return int(value)


def format_key(key: int, rgb: bool) -> str:
    """A lookup key as shown in messages: ``"7"`` (grey) or ``"(255, 0, 0)"`` (``rgb``)."""
    if rgb:
        return str(((key >> 16) & 255, (key >> 8) & 255, key & 255))
    return str(key)
