"""Streams of (name, prediction, truth) pairs from every input evaluation accepts.

Accepted inputs (each side): a datastore with ``read(i)`` and ``len`` (e.g.
``PixelLabelDatastore``; names from its files), a numpy array or torch tensor N x H x W
(or one H x W label map), a list, or any iterable of H x W label maps (read one at a
time, never all at once).
With ``truth=None`` the predictions must yield ``(prediction, truth)`` pairs (a
PairedDatastore-like dataset).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.errors import ConfigurationError, DataError

__all__ = ["iter_pairs", "length_of", "names_of", "class_names_of"]


def _is_datastore(x: Any) -> bool:
    return hasattr(x, "read") and hasattr(x, "__len__") and not isinstance(x, (np.ndarray, list, tuple))


def _is_indexable(x: Any) -> bool:
    sequence_like = isinstance(x, (np.ndarray, list, tuple)) or hasattr(x, "__iter__")
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and not sequence_like


def length_of(x: Any) -> int | None:
    """Number of items when known without reading them, else None."""
    if getattr(x, "ndim", None) == 2 and hasattr(x, "shape"):
        return 1
    try:
        return len(x)
    except TypeError:
        return None


def names_of(x: Any) -> list[str] | None:
    """File names of a datastore (``.files``, else ``.pair_names``/``.names``), else None."""
    files = getattr(x, "files", None)
    if files is not None and not callable(files):
        try:
            return [Path(f).name for f in files]
        except TypeError:
            return None
    for attr in ("pair_names", "names"):
        names = getattr(x, attr, None)
        if names is not None and not callable(names):
            return [str(n) for n in names]
    return None


def class_names_of(x: Any) -> list[str] | None:
    """Class names of a datastore's ``class_set``, else None."""
    class_set = getattr(x, "class_set", None)
    return list(class_set.names) if class_set is not None else None


def _items(x: Any, what: str) -> Iterator[Any]:
    if isinstance(x, (str, os.PathLike)):
        raise ConfigurationError(
            f"{what}: got the path {str(x)!r}; pass a PixelLabelDatastore(path, class_set) instead"
        )
    if getattr(x, "ndim", None) == 2 and hasattr(x, "shape"):  # one H x W label map
        yield x
        return
    if _is_datastore(x):
        for i in range(len(x)):
            yield x.read(i)
        return
    if _is_indexable(x):  # e.g. a torch Dataset without __iter__
        for i in range(len(x)):
            yield x[i]
        return
    try:
        iterator = iter(x)
    except TypeError:
        raise ConfigurationError(
            f"{what} must be a datastore, an array N x H x W, or a list/iterable of H x W label maps; "
            f"got {type(x).__name__}"
        ) from None
    yield from iterator


def iter_pairs(predictions: Any, truth: Any | None) -> Iterator[tuple[str, Any, Any]]:
    """Yield ``(name, prediction, truth)`` for each image, reading lazily.

    Raises:
        DataError: the two sides hold different numbers of images (named with both counts).
        ConfigurationError: an input of a kind that is not accepted.
    """
    n_pred = length_of(predictions)
    n_truth = length_of(truth) if truth is not None else None
    if truth is not None and n_pred is not None and n_truth is not None and n_pred != n_truth:
        raise DataError(f"predictions hold {n_pred} images but the ground truth holds {n_truth}")
    names = (names_of(truth) if truth is not None else None) or names_of(predictions)
    if names is not None and len(set(names)) != len(names):
        names = [f"{i}:{n}" for i, n in enumerate(names)]

    def name(i: int) -> str:
        return names[i] if names is not None and i < len(names) else f"image_{i}"

    if truth is None:
        for i, pair in enumerate(_items(predictions, "predictions")):
            if not isinstance(pair, (tuple, list)) or len(pair) < 2:
                raise ConfigurationError(
                    "with truth=None, predictions must yield (prediction, truth) pairs; "
                    f"item {i} is a {type(pair).__name__}"
                )
            yield name(i), pair[0], pair[1]
        return
    pred_iter = _items(predictions, "predictions")
    truth_iter = _items(truth, "truth")
    count = 0
    sentinel = object()
    while True:
        p = next(pred_iter, sentinel)
        t = next(truth_iter, sentinel)
        if p is sentinel and t is sentinel:
            return
        if p is sentinel or t is sentinel:
            more = "ground truth" if p is sentinel else "predictions"
            raise DataError(
                f"predictions and ground truth hold different numbers of images: the {more} "
                f"go on after image {count}"
            )
        yield name(count), p, t
        count += 1
