"""One parser for every "height x width" argument: ``parse_size``."""

from __future__ import annotations

import numbers
from typing import Any

from pixelseg.errors import ConfigurationError

__all__ = ["parse_size"]


def parse_size(value: Any, name: str = "size", maximum: int | None = None,
               square: bool = False) -> tuple[int, int] | None:
    """``value`` -> ``(height, width)`` in pixels, or None for None.

    Accepted: a string ``"HxW"`` or ``"H,W"`` (``"360x480"``), a sequence of two whole
    numbers (``(360, 480)``, ``[360.0, 480.0]``) and, with ``square=True``, one integer
    ``n`` for ``(n, n)``. Booleans are refused.

    Args:
        value: the value to parse.
        name: the option or argument name shown in the error (``"--image-size"``, ``"input_size"``).
        maximum: the largest allowed side in pixels, or None.
        square: accept a single integer as a square size.

    Raises:
        ConfigurationError: anything else, or a side below 1 or above ``maximum``; the message
            names ``name`` and shows the value.
    """
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, str):
            parts: Any = [int(p) for p in value.lower().replace(",", "x").split("x")]
        elif square and isinstance(value, numbers.Integral):
            parts = [int(value), int(value)]
        else:
            if isinstance(value, bytes) or any(isinstance(v, bool) for v in value):
                raise TypeError
            if not all(float(v) == int(v) for v in value):
                raise ValueError
            parts = [int(v) for v in value]
        h, w = parts
        ok = h >= 1 and w >= 1 and (maximum is None or (h <= maximum and w <= maximum))
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        limit = f"from 1 to {maximum}" if maximum is not None else "of at least 1"
        raise ConfigurationError(
            f"{name} must look like HxW, height x width in pixels {limit} (e.g. 360x480 or [360, 480]), "
            f"got {value!r}"
        )
    return h, w
