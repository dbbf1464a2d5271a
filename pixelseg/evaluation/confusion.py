"""Confusion matrices of label maps, counted fast, streamed over any number of images.

``confusion_matrix[i, j]`` counts the pixels whose true class is ``i`` and whose predicted
class is ``j`` (rows truth, columns prediction), as MATLAB's ``evaluateSemanticSegmentation``
defines it. Pixels whose truth is void (255 by default) or any value that is not a class
index (``< 0`` or ``>= K``) are left out of every count. A predicted value outside ``0..K-1``
is always an error: a prediction has no void.

How it is fast: both label maps are fused into one small-integer index ``truth * (K + 1) +
pred`` and counted with a single ``bincount``.  For uint8 label maps with ``K <= 15`` the
index itself is uint8 (void 255 wraps past every valid index, see :func:`_count_uint8`), so
no wide temporary is ever made; other inputs use a uint16 index ``truth << 8 | pred`` with
65536 bins, which also tells which values were out of range.  Torch tensors on any device
are counted on that device (``torch.bincount``) without a host synchronisation per update.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["ConfusionMatrixAccumulator", "confusion_matrix", "VOID"]



def _torch():
    import torch

    return torch


def _is_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _check_num_classes(num_classes: Any, void: Any) -> tuple[int, int | None]:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or not 1 <= num_classes <= 255:
        raise ConfigurationError(f"num_classes must be an int in 1..255, got {num_classes!r}")
    if void is not None:
        if isinstance(void, bool) or not isinstance(void, (int, np.integer)):
            raise ConfigurationError(f"void must be an int or None, got {void!r}")
        if 0 <= void < num_classes:
            raise ConfigurationError(
                f"void={void} is a class index (num_classes={num_classes}); void must lie outside 0..{num_classes - 1}"
            )
        void = int(void)
    return int(num_classes), void


def describe_values(values: np.ndarray, counts: np.ndarray, limit: int = 8) -> str:
    parts = [f"{int(v)} ({int(c)} pixels)" for v, c in zip(values[:limit], counts[:limit])]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(parts) + more


def _bad_prediction(values: np.ndarray, counts: np.ndarray, num_classes: int, source: str) -> DataError:
    hint = (f" ({VOID} is void: a prediction made with a region of interest is void outside it; evaluate it with "
            "the same regions)") if VOID in np.asarray(values).tolist() else ""
    return DataError(
        f"{source}: the prediction holds values that are not class indices 0..{num_classes - 1}: "
        f"{describe_values(values, counts)}{hint}"
    )


def _unknown_truth(values: np.ndarray, counts: np.ndarray, num_classes: int, void: int | None, source: str) -> DataError:
    return DataError(
        f"{source}: the ground truth holds values that are neither a class index 0..{num_classes - 1} "
        f"nor void ({void}): {describe_values(values, counts)}"
    )


def _bincount_uint(index: np.ndarray, minlength: int) -> np.ndarray:
    """``bincount`` of a flat uint8/uint16 array, as int64 (torch's CPU kernel takes uint8 as is)."""
    torch = sys.modules.get("torch")  # faster on uint8, but not worth importing torch for
    if torch is not None and index.dtype == np.uint8:
        return torch.bincount(torch.from_numpy(index), minlength=minlength).numpy()
    return np.bincount(index, minlength=minlength)


def _count_uint8(pred: np.ndarray, truth: np.ndarray, k: int, void: int | None, strict: bool, source: str) -> np.ndarray:
    """K x K counts of two flat uint8 label maps of equal length.

    Fast path (``void == 255`` and ``K <= 15``): with ``W = K + 1`` the uint8 index
    ``truth * W + pred`` (wrapping modulo 256) is ``< K * W`` for a valid truth and lands in
    ``[256 - W, 255)`` for truth 255, since ``255 * W = -W (mod 256)``; the two ranges are
    disjoint exactly when ``(K + 1)**2 <= 256``. It is taken only after checking that every
    prediction is ``< K`` and every truth is ``< K`` or 255, so nothing can alias.
    """
    if void == VOID and k <= 15:
        pmax = int(pred.max()) if pred.size else 0
        if pmax < k and (truth.size == 0 or int((truth + np.uint8(1)).max()) <= k):
            w = k + 1
            index = np.multiply(truth, w, dtype=np.uint8)
            index += pred
            counts = _bincount_uint(index, 256)
            return counts[: k * w].reshape(k, w)[:, :k].astype(np.int64)
    # General path: a 256 x 256 table of (truth, pred) value pairs names every bad value.
    index = truth.astype(np.uint16)
    index <<= 8
    index |= pred
    table = _bincount_uint(index, 65536).reshape(256, 256)
    return _counts_from_table(table, k, void, strict, source)


def _counts_from_table(table: np.ndarray, k: int, void: int | None, strict: bool, source: str) -> np.ndarray:
    bad_pred = table[:, k:].sum(axis=0)
    if bad_pred.any():
        values = np.flatnonzero(bad_pred)
        raise _bad_prediction(values + k, bad_pred[values], k, source)
    if strict:
        truth_counts = table.sum(axis=1)
        truth_counts[:k] = 0
        if void is not None and 0 <= void < 256:
            truth_counts[void] = 0
        if truth_counts.any():
            values = np.flatnonzero(truth_counts)
            raise _unknown_truth(values, truth_counts[values], k, void, source)
    return np.ascontiguousarray(table[:k, :k]).astype(np.int64)


def _count_numpy(pred: np.ndarray, truth: np.ndarray, k: int, void: int | None, strict: bool, source: str) -> np.ndarray:
    """K x K counts of two flat integer numpy arrays of any integer dtype."""
    if pred.dtype == np.uint8 and truth.dtype == np.uint8:
        return _count_uint8(pred, truth, k, void, strict, source)
    if pred.size == 0:
        return np.zeros((k, k), np.int64)
    pmin, pmax = int(pred.min()), int(pred.max())
    if pmin < 0 or pmax >= k:
        bad = (pred < 0) | (pred >= k)
        values, counts = np.unique(pred[bad], return_counts=True)
        raise _bad_prediction(values, counts, k, source)
    tmin, tmax = int(truth.min()), int(truth.max())
    if tmin >= 0 and tmax <= 255:
        return _count_uint8(pred.astype(np.uint8), truth.astype(np.uint8), k, void, strict, source)
    valid = (truth >= 0) & (truth < k)
    if strict:
        bad = ~valid if void is None else ~valid & (truth != void)
        if bad.any():
            values, counts = np.unique(truth[bad], return_counts=True)
            raise _unknown_truth(values, counts, k, void, source)
    index = truth[valid].astype(np.int64) * k + pred[valid]
    return np.bincount(index, minlength=k * k).reshape(k, k)


def _as_class_indices(pred: Any, truth_ndim: int, name: str) -> Any:
    """Integer class indices from ``pred``; scores with one more axis (the class axis) -> argmax."""
    is_float = pred.is_floating_point() if _is_tensor(pred) else np.issubdtype(pred.dtype, np.floating)
    if not is_float:
        return pred
    if pred.ndim == truth_ndim + 1:
        axis = 0 if pred.ndim == 3 else 1
        return pred.argmax(axis) if not _is_tensor(pred) else pred.argmax(dim=axis)
    raise ConfigurationError(
        f"{name}: predictions must be integer class indices (or scores with a class axis, "
        f"N x K x H x W), got dtype {pred.dtype} and shape {tuple(pred.shape)}"
    )


def _check_pair(pred: Any, truth: Any, source: str) -> None:
    if tuple(pred.shape) != tuple(truth.shape):
        raise DataError(
            f"{source}: prediction and ground truth differ in size: prediction {tuple(pred.shape)}, "
            f"ground truth {tuple(truth.shape)}"
        )
    dtype = truth.dtype
    is_int = (not dtype.is_floating_point and not dtype.is_complex) if _is_tensor(truth) else (
        np.issubdtype(dtype, np.integer) or dtype == np.bool_
    )
    if not is_int:
        raise DataError(f"{source}: the ground truth must hold integer labels, got dtype {dtype}")


def confusion_matrix(
    pred: Any,
    truth: Any,
    num_classes: int,
    void: int | None = VOID,
    strict: bool = True,
    source: str = "<array>",
) -> np.ndarray:
    """Confusion matrix of one label map (or a batch) as a K x K int64 numpy array.

    Args:
        pred: predicted class indices, H x W or N x H x W integer numpy array or torch
            tensor (any device; copied to the CPU), values in ``0..K-1``. Float scores with
            a class axis (K x H x W or N x K x H x W) are reduced by argmax.
        truth: true labels of the same shape; ``void`` marks pixels left out.
        num_classes: K, 1..255.
        void: value of void pixels (default 255), or None.
        strict: when True (default) a truth value that is neither a class index nor
            ``void`` raises; when False such pixels are left out like void.
        source: name of the image in error messages (a file name, ``"image 3"``).

    Returns:
        np.ndarray K x K int64, rows truth, columns prediction.

    Raises:
        DataError: shapes differ, a prediction is outside ``0..K-1``, or (strict) the truth
            holds a value that is neither a class nor void; the message names the values
            and their pixel counts.
        ConfigurationError: bad ``num_classes`` or ``void``.
    """
    k, void = _check_num_classes(num_classes, void)
    if _is_tensor(truth):
        truth = truth.detach().cpu().numpy()
    if _is_tensor(pred):
        pred = pred.detach().cpu().numpy()
    truth = np.asarray(truth)
    pred = _as_class_indices(np.asarray(pred), truth.ndim, source)
    _check_pair(pred, truth, source)
    if pred.dtype == np.bool_:
        pred = pred.view(np.uint8)
    if truth.dtype == np.bool_:
        truth = truth.view(np.uint8)
    return _count_numpy(np.ravel(pred), np.ravel(truth), k, void, strict, source)


class ConfusionMatrixAccumulator:
    """Streaming confusion matrix for validation loops and evaluation (torch or numpy).

    Counts live on the device of the tensors given to :meth:`update` (or on ``device``
    when given), so a validation loop on the GPU never waits for the host per batch;
    reading :attr:`confusion_matrix` or calling :meth:`compute` synchronises once.

    Args:
        num_classes: K, the number of classes (1..255).
        void: truth value of void pixels, left out of every count (default 255, as
            ``pixelseg.data.VOID`` and the loss's ``ignore_index``). Any other truth value
            outside ``0..K-1`` is also left out (use :func:`confusion_matrix` with
            ``strict=True`` to have it raise instead).
        device: where tensor counts live (``"cuda"``, ``torch.device``); default: the
            device of the first tensor given to :meth:`update`. numpy inputs are counted
            on the CPU unless ``device`` is given.

    Example::

        acc = ConfusionMatrixAccumulator(11)
        for images, labels in loader:
            acc.update(net(images).argmax(1), labels)
        acc.compute()["mean_iou"]
    """

    def __init__(self, num_classes: int, void: int | None = VOID, device: Any = None) -> None:
        self.num_classes, self.void = _check_num_classes(num_classes, void)
        self.device = device
        self.reset()

    def reset(self) -> None:
        """Forget every count."""
        self._numpy = np.zeros((self.num_classes, self.num_classes), np.int64)
        self._tensor = None  # (K + 1) x (K + 1) int64 on a device; row/column K = left out / bad

    def update(self, pred: Any, truth: Any) -> None:
        """Add the pixels of one label map or one batch.

        Args:
            pred: class indices, H x W or N x H x W (torch tensor on any device, or numpy),
                integers in ``0..K-1``; or scores N x K x H x W / K x H x W (argmax taken).
            truth: labels of the same shape, ints; void and values outside ``0..K-1`` are
                left out.

        Raises:
            DataError: shapes differ; a prediction outside ``0..K-1`` (raised here for
                numpy and CPU tensors, and when the counts are read for other devices).
        """
        if self.device is None and not _is_tensor(pred) and not _is_tensor(truth):
            self._numpy += confusion_matrix(pred, truth, self.num_classes, self.void, strict=False, source="update")
            return
        torch = _torch()
        device = self.device if self.device is not None else (truth.device if _is_tensor(truth) else pred.device)
        truth = torch.as_tensor(truth, device=device)
        pred = torch.as_tensor(pred, device=device)
        pred = _as_class_indices(pred, truth.ndim, "update")
        _check_pair(pred, truth, "update")
        if truth.device.type == "cpu" and (truth.dtype == torch.uint8 or pred.dtype == torch.uint8 or
                                            truth.numel() == 0):
            self._numpy += confusion_matrix(pred, truth, self.num_classes, self.void, strict=False, source="update")
            return
        self._update_tensor(pred.reshape(-1), truth.reshape(-1))

    def _update_tensor(self, pred, truth) -> None:
        torch = _torch()
        k = self.num_classes
        truth = truth.long()
        pred = pred.long()
        row = torch.where((truth >= 0) & (truth < k), truth, k)
        col = torch.where((pred >= 0) & (pred < k), pred, k)
        counts = torch.bincount(row * (k + 1) + col, minlength=(k + 1) ** 2).reshape(k + 1, k + 1)
        if self._tensor is None:
            self._tensor = counts
        else:
            self._tensor += counts.to(self._tensor.device)
        if truth.device.type == "cpu":
            self._check_tensor()

    def _check_tensor(self) -> None:
        bad = int(self._tensor[:, self.num_classes].sum())
        if bad:
            self._tensor[:, self.num_classes] = 0
            raise DataError(
                f"update: {bad} predicted pixels hold values that are not class indices 0..{self.num_classes - 1}"
            )

    @property
    def confusion_matrix(self) -> np.ndarray:
        """np.ndarray K x K int64: pixels of true class i predicted as j (rows truth)."""
        total = self._numpy.copy()
        if self._tensor is not None:
            self._check_tensor()
            total += self._tensor[: self.num_classes, : self.num_classes].cpu().numpy()
        return total

    def compute(self, nan_policy: str = "omit") -> dict[str, float]:
        """Dataset metrics of everything counted so far (MATLAB definitions).

        Returns:
            dict with ``global_accuracy``, ``mean_accuracy``, ``mean_iou``, ``weighted_iou``
            (floats in [0, 1]; NaN when nothing was counted). With ``nan_policy="omit"``
            (default) classes absent from truth and prediction are left out of the means;
            ``"propagate"`` gives MATLAB's NaN. See :mod:`pixelseg.evaluation.metrics`.
        """
        from pixelseg.evaluation.metrics import dataset_metrics_from_confusion

        return dataset_metrics_from_confusion(self.confusion_matrix, nan_policy=nan_policy)

    def __repr__(self) -> str:
        return f"ConfusionMatrixAccumulator(num_classes={self.num_classes}, void={self.void}, pixels={int(self.confusion_matrix.sum())})"
