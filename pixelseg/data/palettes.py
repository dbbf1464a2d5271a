"""Display colours of classes: the VOC colour map, default class colours, colour parsing and
the 256-entry palette that paints class-index maps (void black).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError

__all__ = ["voc_colormap", "default_colors", "parse_color", "palette_table"]


def voc_colormap(n: int = 256) -> np.ndarray:
    """The Pascal VOC colour map (bit-interleaved), as an n x 3 uint8 array.

    Source: the VOC development kit (``VOClabelcolormap.m``). Entry 1 is (128, 0, 0),
    entry 15 (192, 128, 128), entry 16 (0, 64, 0).
    """
    out = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out[i] = (r, g, b)
    return out


def default_colors(k: int) -> np.ndarray:
    """k x 3 uint8 distinct class colours: the VOC colours shifted by one, so that no class is
    black (black is void in palettes)."""
    return voc_colormap(k + 1)[1:]


def parse_color(value: Any, what: str) -> tuple[int, int, int]:
    """A ``"#rrggbb"`` string or a sequence of three ints 0..255 -> an ``(r, g, b)`` tuple.

    Args:
        value: the colour.
        what: where the value came from, named in the error (``"colors[2]"``).

    Raises:
        ConfigurationError: anything else, naming ``what`` and the value.
    """
    if isinstance(value, str):
        text = value.strip().lstrip("#")
        if len(text) != 6:
            raise ConfigurationError(f"{what}: colour {value!r} is not '#rrggbb'")
        try:
            return tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            raise ConfigurationError(f"{what}: colour {value!r} is not '#rrggbb'") from None
    try:
        triplet = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{what}: {value!r} is not an RGB triplet") from None
    if len(triplet) != 3 or any(not 0 <= v <= 255 for v in triplet):
        raise ConfigurationError(f"{what}: {value!r} is not an RGB triplet of 0..255")
    return triplet  # type: ignore[return-value]


def palette_table(colors: np.ndarray) -> np.ndarray:
    """K x 3 uint8 class colours (K <= 255) -> the 256 x 3 uint8 table indexed by class index:
    row i = colour of class i, unused rows and row :data:`~pixelseg.conventions.VOID` black."""
    table = np.zeros((256, 3), dtype=np.uint8)
    table[: len(colors)] = colors
    table[VOID] = 0
    return table
