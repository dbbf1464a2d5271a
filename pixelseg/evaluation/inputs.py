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

__all__ = ["iter_pairs", "length_of", "names_of", "class_names_of", "label_maps", "as_array"]


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


def label_maps(name: str, prediction: Any, truth: Any) -> tuple[np.ndarray, np.ndarray]:
    """One pair as numpy label maps: class indices, with scores reduced by argmax.

    Args:
        name: the image's name (file name or ``image_<index>``) for the messages.
        prediction: H x W (or N x H x W) integer class indices, or float scores with one more
            axis, the class axis (K x H x W, N x K x H x W); numpy or torch.
        truth: H x W (or N x H x W) integer labels.

    Raises:
        DataError: naming the image: an empty map (no pixels), values that are not numbers,
            a float prediction without a class axis, or scores holding NaN or infinity.
    """
    pred, true = as_array(prediction), as_array(truth)
    for role, x in (("prediction", pred), ("ground truth", true)):
        if x.dtype.kind not in "biuf":
            raise DataError(f"{name}: the {role} holds {x.dtype} values, not class indices")
        if x.size == 0:
            raise DataError(f"{name}: the {role} is empty (shape {x.shape}, no pixels)")
    if pred.dtype.kind == "f":
        if pred.ndim != true.ndim + 1 or pred.ndim not in (3, 4):
            raise DataError(
                f"{name}: the prediction holds {pred.dtype} values of shape {pred.shape}, not class indices; "
                "give an H x W integer label map or scores with a class axis (K x H x W)"
            )
        if not np.isfinite(pred).all():
            raise DataError(f"{name}: the prediction scores hold NaN or infinity")
        pred = pred.argmax(axis=pred.ndim - 3).astype(np.uint8)
    return pred, true


def as_array(x: Any) -> np.ndarray:
    """A numpy array of ``x`` (a torch tensor is copied to the CPU)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
