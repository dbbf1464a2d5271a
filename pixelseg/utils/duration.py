"""Durations as people write them: ``"30m"``, ``"1h30m"``, ``"90s"``, ``"600"`` (seconds)."""

from __future__ import annotations

import re

from pixelseg.errors import ConfigurationError

__all__ = ["parse_duration"]

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")


def parse_duration(value: str | float | int, name: str = "duration") -> float:
    """Seconds (float > 0) of ``value``: a number of seconds, or parts with units ``h``, ``m``,
    ``s`` written together (``"1h30m"``, ``"10m"``, ``"45s"``, ``"2.5m"``).

    Raises:
        ConfigurationError: not a duration, or not positive (the message names ``name``).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ConfigurationError(
                    f"{name}: {value!r} is not a duration; write e.g. 30m, 1h30m, 90s or a number of seconds"
                ) from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not seconds > 0:
        raise ConfigurationError(f"{name} must be positive, got {value!r}")
    return seconds
