"""A title and a colour legend drawn onto an overlay picture (``pixelseg predict --overlay``).

:func:`add_overlay_legend` puts a strip with the title (the image name) above the picture
and a strip below it with a swatch and the name of every class that appears in the label
map, so the colours of a saved overlay can be read without the class file. Drawn with
Pillow's built-in font; the picture itself is not changed.
"""

from __future__ import annotations

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError

__all__ = ["add_overlay_legend"]

_BACKGROUND = (255, 255, 255)
_TEXT = (20, 20, 20)
MIN_WIDTH = 160  # narrower pictures get a wider canvas so that a class name fits


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 with FreeType: scalable
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()


def _classes(classes, count: int) -> tuple[list[str], np.ndarray]:
    """(names, K x 3 uint8 colours) of a ClassSet, a list of names, or None (class 0.., default colours)."""
    from pixelseg.inference.overlay import _resolve_colormap

    if classes is None:
        names = [f"class {i}" for i in range(count)]
        colors, _ = _resolve_colormap(None, count)
    elif hasattr(classes, "names"):
        names = list(classes.names)
        colors, _ = _resolve_colormap(classes, len(names))
    else:
        names = [str(n) for n in classes]
        colors, _ = _resolve_colormap(None, len(names))
    return names, colors


def add_overlay_legend(picture: np.ndarray, labels: np.ndarray, classes=None, title: str | None = None) -> np.ndarray:
    """``picture`` with a title strip above and a legend of the classes in ``labels`` below.

    Args:
        picture: H x W x 3 uint8, e.g. :func:`~pixelseg.inference.label_overlay`'s result.
        labels: H x W integer class indices of the picture (void and values past the class
            list are left out of the legend).
        classes: a ``ClassSet`` (names and colours, as ``label_overlay(colormap=class_set)``
            draws them), a list of names (default colours), or None ("class i", default
            colours).
        title: text of the top strip (e.g. the image file name); None for no title.

    Returns:
        (T + H + L) x max(W, 160) x 3 uint8: title strip, the picture (left aligned on a white
        canvas), legend strip (wrapped onto more rows when the classes do not fit one).

    Raises:
        ConfigurationError: picture not H x W x 3 uint8, or labels of another size.
    """
    from PIL import Image, ImageDraw

    picture = np.asarray(picture)
    labels = np.asarray(labels)
    if picture.ndim != 3 or picture.shape[2] != 3 or picture.dtype != np.uint8:
        raise ConfigurationError(f"overlay picture must be H x W x 3 uint8, got shape {picture.shape} dtype {picture.dtype}")
    if labels.shape != picture.shape[:2]:
        raise ConfigurationError(f"label map is {labels.shape} but the picture is {picture.shape[:2]}")
    present = [int(v) for v in np.unique(labels) if 0 <= v < VOID]
    names, colors = _classes(classes, max(present, default=-1) + 1)
    present = [v for v in present if v < len(names)]

    height, width = picture.shape[:2]
    canvas_width = max(width, MIN_WIDTH)
    size = int(np.clip(canvas_width // 40, 10, 20))
    font, pad, gap = _font(size), max(2, size // 3), max(6, size)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    # legend entries flowed into rows: swatch, space, name, gap
    rows: list[list[tuple[int, int]]] = [[]]  # (class, x) per row
    x = pad
    for value in present:
        entry = size + pad + int(measure.textlength(names[value], font=font))
        if rows[-1] and x + entry > canvas_width - pad:
            rows.append([])
            x = pad
        rows[-1].append((value, x))
        x += entry + gap
    line = size + 2 * pad
    title_height = line if title else 0
    legend_height = line * len(rows) if present else 0

    canvas = Image.new("RGB", (canvas_width, title_height + height + legend_height), _BACKGROUND)
    canvas.paste(Image.fromarray(picture), (0, title_height))
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((pad, pad), title, fill=_TEXT, font=font)
    top = title_height + height
    for r, row in enumerate(rows if present else []):
        y = top + r * line + pad
        for value, x in row:
            draw.rectangle([x, y, x + size - 1, y + size - 1], fill=tuple(int(c) for c in colors[value]), outline=_TEXT)
            draw.text((x + size + pad, y), names[value], fill=_TEXT, font=font)
    return np.asarray(canvas)
