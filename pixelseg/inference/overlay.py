"""Label overlays and legends: MATLAB ``labeloverlay`` for pixelseg label maps.

``label_overlay`` fuses an RGB (or grey) image with a label map: every pixel of an included
class is blended with that class's colour, every other pixel (void 255, classes left out by
``included_labels``) keeps the image. ``label_legend`` adds the matching colour legend to a
matplotlib axes.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError, DataError

# Qualitative palette for the first 20 classes: matplotlib's tab10 followed by its light
# companions from tab20 (distinct hues first, then lighter shades).
_TAB20 = np.array(
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
        (174, 199, 232), (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213),
        (196, 156, 148), (247, 182, 210), (199, 199, 199), (219, 219, 141), (158, 218, 229),
    ],
    dtype=np.uint8,
)


def default_colormap(num_classes: int) -> np.ndarray:
    """A distinct colour per class: ``num_classes x 3`` uint8 RGB.

    The first 20 colours are matplotlib's ``tab10`` then the light half of ``tab20``;
    beyond 20, hues are spread by the golden ratio with alternating saturation/value so
    that neighbouring class indices stay distinguishable.

    Raises:
        ConfigurationError: ``num_classes`` is not between 0 and 255.
    """
    if not 0 <= int(num_classes) <= 255:
        raise ConfigurationError(
            f"num_classes must be between 0 and 255 (255 is void), got {num_classes}"
        )
    n = int(num_classes)
    colors = np.zeros((n, 3), dtype=np.uint8)
    colors[: min(n, 20)] = _TAB20[: min(n, 20)]
    for i in range(20, n):
        hue = ((i - 20) * 0.618033988749895) % 1.0
        sat, val = ((0.65, 0.95), (0.9, 0.7), (0.45, 0.85))[i % 3]
        colors[i] = np.round(np.array(colorsys.hsv_to_rgb(hue, sat, val)) * 255)
    return colors


def _resolve_colormap(colormap, num_needed: int) -> tuple[np.ndarray, list[str] | None]:
    """(K x 3 uint8 colours, class names or None) from a ClassSet, an array, or None."""
    names = None
    if colormap is None:
        return default_colormap(max(num_needed, 1)), None
    if hasattr(colormap, "colors") and hasattr(colormap, "names"):  # a ClassSet
        names = list(colormap.names)
        colormap = colormap.colors
    arr = np.asarray(colormap)
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] == 0:
        raise ConfigurationError(
            f"colormap must be a ClassSet or a K x 3 array of RGB colours, got shape {arr.shape}"
        )
    if np.issubdtype(arr.dtype, np.floating):
        if np.nanmin(arr) < 0 or np.nanmax(arr) > 1 or np.isnan(arr).any():
            raise ConfigurationError(
                "a floating-point colormap must hold values in [0, 1], got values in "
                f"[{np.nanmin(arr):g}, {np.nanmax(arr):g}]"
            )
        arr = np.round(arr * 255)
    elif arr.min() < 0 or arr.max() > 255:
        raise ConfigurationError(
            f"an integer colormap must hold values in 0..255, got [{arr.min()}, {arr.max()}]"
        )
    return arr.astype(np.uint8), names


def _as_rgb_float(image: np.ndarray) -> np.ndarray:
    """H x W x 3 float32 in [0, 255] from a uint8/uint16/float/bool grey or RGB(A) image."""
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]  # alpha dropped, as when reading images
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise DataError(
            f"image must be H x W (grey) or H x W x 3 (RGB), got shape {np.asarray(image).shape}"
        )
    if img.dtype == np.uint8:
        return img.astype(np.float32)
    if img.dtype == np.uint16:
        return img.astype(np.float32) * (255.0 / 65535.0)
    if img.dtype == bool:
        return img.astype(np.float32) * 255.0
    if np.issubdtype(img.dtype, np.floating):
        lo, hi = float(np.nanmin(img)), float(np.nanmax(img))
        if lo < 0 or hi > 1:
            raise DataError(
                f"a floating-point image must hold values in [0, 1], got [{lo:g}, {hi:g}]"
            )
        return img.astype(np.float32) * 255.0
    raise DataError(f"image dtype {img.dtype} is not supported (use uint8, uint16, float or bool)")


def _as_labels(labels) -> tuple[np.ndarray, bool]:
    """(H x W int array, was_boolean) from a label map; torch tensors are accepted."""
    if hasattr(labels, "detach"):  # a torch tensor, without importing torch
        labels = labels.detach().cpu().numpy()
    lab = np.asarray(labels)
    if lab.ndim == 3 and lab.shape[0] == 1:
        lab = lab[0]
    if lab.ndim != 2:
        raise DataError(f"labels must be an H x W label map, got shape {lab.shape}")
    if lab.dtype == bool:
        return lab.astype(np.uint8), True
    if not np.issubdtype(lab.dtype, np.integer):
        raise DataError(
            f"labels must hold integer class indices (uint8, void 255), got dtype {lab.dtype}"
        )
    return lab, False


def check_transparency(transparency) -> float:
    """``transparency`` as a float in [0, 1]; ConfigurationError naming the value otherwise."""
    try:
        ok = 0.0 <= float(transparency) <= 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigurationError(f"transparency must be a number in [0, 1], got {transparency!r}")
    return float(transparency)


def label_overlay(
    image,
    labels,
    colormap=None,
    transparency: float = 0.5,
    included_labels: Sequence[int] | None = None,
) -> np.ndarray:
    """Fuse an image with a label map (MATLAB ``labeloverlay``).

    Every pixel whose class is included gets
    ``out = transparency * image + (1 - transparency) * colour`` (rounded to uint8), so
    ``transparency=0`` paints the class colour opaquely and ``transparency=1`` shows only the
    image, exactly as MATLAB's ``labeloverlay(A, L, 'Transparency', t)``. Void pixels (255)
    and classes not in ``included_labels`` keep the image unchanged.

    Args:
        image: H x W x 3 RGB (or H x W grey, replicated to RGB) image; uint8, uint16,
            bool, or float in [0, 1]. An alpha channel is dropped.
        labels: H x W label map of class indices 0..K-1 with void 255 (numpy or torch,
            any integer dtype). A boolean mask (MATLAB ``BW``) colours only its true
            pixels, with colour index 1 (or the single colour of a 1 x 3 colormap), unless
            ``included_labels`` names other indices (False is index 0).
        colormap: class colours: a ``ClassSet`` (its ``.colors``) or a K x 3 array of
            uint8 (0..255) or float (0..1) RGB. ``None``: :func:`default_colormap`.
        transparency: in [0, 1]; 0.5 by default (MATLAB's default).
        included_labels: class indices to colour (an int or a sequence); all classes by default.

    Returns:
        H x W x 3 uint8 RGB image.

    Raises:
        DataError: image and labels differ in size, or a label (other than void) has no
            colour in ``colormap``; the message names the value and its pixel count.
        ConfigurationError: bad ``transparency``, ``colormap`` or ``included_labels``.

    Examples:
        >>> import numpy as np
        >>> from pixelseg import label_overlay
        >>> image = np.full((2, 2, 3), 100, np.uint8)
        >>> labels = np.array([[0, 1], [255, 1]], np.uint8)         # 255: void keeps the image
        >>> colors = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
        >>> label_overlay(image, labels, colormap=colors, transparency=0.5)
        array([[[178,  50,  50],
                [ 50,  50, 178]],
        <BLANKLINE>
               [[100, 100, 100],
                [ 50,  50, 178]]], dtype=uint8)
    """
    check_transparency(transparency)
    img = _as_rgb_float(image)
    lab, boolean = _as_labels(labels)
    if lab.shape != img.shape[:2]:
        raise DataError(
            f"image is {img.shape[0]} x {img.shape[1]} but labels are "
            f"{lab.shape[0]} x {lab.shape[1]}; they must be the same size"
        )
    if lab.size and (lab.min() < 0):
        raise DataError(f"labels hold negative values (min {lab.min()}); use 255 for void")
    max_label = int(lab[lab != VOID].max()) if (lab != VOID).any() else -1
    colors, _ = _resolve_colormap(colormap, max_label + 1)
    colors = colors[:VOID]  # 255 is void: a 256-colour map (such as VOC's) keeps its first 255
    if boolean:
        if colors.shape[0] == 1:
            lab = np.where(lab == 1, 0, VOID).astype(np.uint8)
        elif included_labels is None:
            included_labels = [1]
    num_colors = colors.shape[0]
    out_of_range = (lab != VOID) & (lab >= num_colors)
    if out_of_range.any():
        values, counts = np.unique(lab[out_of_range], return_counts=True)
        listed = ", ".join(f"{v}: {c} px" for v, c in zip(values.tolist(), counts.tolist()))
        raise DataError(
            f"labels hold values with no colour in a colormap of {num_colors} classes "
            f"({listed}); class indices must be 0..{num_colors - 1} or void 255"
        )
    include = np.ones(max(num_colors, 1), dtype=bool)
    if included_labels is not None:
        try:
            wanted = np.atleast_1d(np.asarray(included_labels)).ravel()
            if wanted.size and not np.issubdtype(wanted.dtype, np.integer):
                raise TypeError
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"included_labels must be class indices (an int or a list of ints), got {included_labels!r}"
            ) from None
        wanted = wanted.astype(np.int64)
        bad = wanted[(wanted < 0) | (wanted >= num_colors)]
        if bad.size:
            raise ConfigurationError(
                f"included_labels {bad.tolist()} are not class indices 0..{num_colors - 1}"
            )
        include[:] = False
        include[wanted] = True
    # Lookup table over all 256 label values: colour and whether it is painted.
    lut_color = np.zeros((256, 3), dtype=np.float32)
    lut_color[:num_colors] = colors
    lut_paint = np.zeros(256, dtype=bool)
    lut_paint[:num_colors] = include[:num_colors]
    idx = np.clip(lab, 0, 255).astype(np.intp)
    paint = lut_paint[idx]
    t = np.float32(transparency)
    out = img.copy()
    out[paint] = t * img[paint] + (np.float32(1.0) - t) * lut_color[idx[paint]]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def label_legend(
    ax,
    classes,
    colormap=None,
    included_labels: Sequence[int] | None = None,
    **legend_kwargs,
):
    """Add a class-colour legend to a matplotlib axes, matching :func:`label_overlay`.

    Args:
        ax: a ``matplotlib.axes.Axes``.
        classes: a ``ClassSet`` (names and colours), a list of class names, or an int K
            (names "class 0".."class K-1").
        colormap: colours as for :func:`label_overlay`; default the ClassSet's colours or
            :func:`default_colormap`.
        included_labels: class indices to list; all by default.
        **legend_kwargs: passed to ``ax.legend`` (default ``loc="upper left"``,
            ``bbox_to_anchor=(1.01, 1)``, outside the image, ``fontsize="small"``).

    Returns:
        The ``matplotlib.legend.Legend``.

    Raises:
        ConfigurationError: the colormap has fewer colours than there are classes.
    """
    from matplotlib.patches import Patch

    if isinstance(classes, int):
        names = [f"class {i}" for i in range(classes)]
    elif hasattr(classes, "names"):
        names = list(classes.names)
        if colormap is None and hasattr(classes, "colors"):
            colormap = classes
    else:
        names = [str(n) for n in classes]
    colors, _ = _resolve_colormap(colormap, len(names))
    if colors.shape[0] < len(names):
        raise ConfigurationError(
            f"colormap has {colors.shape[0]} colours for {len(names)} classes"
        )
    indices = range(len(names)) if included_labels is None else list(included_labels)
    handles = [
        Patch(facecolor=colors[i] / 255.0, edgecolor="black", linewidth=0.5, label=names[i])
        for i in indices
    ]
    options = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": "small"}
    options.update(legend_kwargs)
    return ax.legend(handles=handles, **options)
