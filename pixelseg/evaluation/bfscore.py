"""Boundary F1 (BF) score per class per image, MATLAB's definition, computed fast.

Definition (MATLAB ``bfscore`` as used by ``evaluateSemanticSegmentation``; Csurka,
Larlus, Perronnin, BMVC 2013), for one image and one class c:

- masks: ``truth == c`` and ``(pred == c) & (truth is a class)``: a void truth pixel (any
  value outside 0..K-1) belongs to no class on either side, so what is predicted there is not
  scored, as in every other metric (issue 9: "void pixels of the truth are excluded
  everywhere"; field case C04). A predicted region that runs into a void area ends there,
  where the true region ends too. (The first definition did not mask the prediction, so a
  prediction inside a void band counted as a boundary error.)
- boundary of a mask: the mask minus its erosion by the 4-connected cross, the mask being
  zero-padded first, so mask pixels on the image border are boundary pixels.
- tolerance ``theta`` = 0.75 % of the image diagonal, ``0.0075 * sqrt(H**2 + W**2)``
  pixels (4.5 px at 360 x 480).
- a boundary point matches when its squared Euclidean distance to the nearest point of the
  other boundary is below ``theta**2`` (strictly).
- precision P = matched predicted boundary points / predicted boundary points; recall
  R = matched true boundary points / true boundary points; BF = 2 P R / (P + R), 0 when
  P + R = 0.

Edge cases, with the values returned:

- class absent from both truth and prediction: NaN (left out of every mean);
- class in exactly one of them: 0 (one of P, R is 0/0 and the other 0: no boundary
  point can match);
- class in both: the formula above (can be 0 when no point lies within ``theta``).

How it is fast (exact, no approximation): the boundary of every class is found in one pass
over the label map (a pixel is a boundary pixel of its own class when a 4-neighbour holds
another value or it touches the image border). Each boundary pixel sets the bit of its
class in a per-pixel bit set (uint16 for K <= 16 ... uint64, 64 classes per pass). The
set of points within ``theta`` of a class's boundary is the dilation of that boundary by
the disk ``{(dy, dx): dy**2 + dx**2 < theta**2}``; dilating the bit sets with bitwise OR
dilates all classes at once. The disk is a union of centred rows of half-width ``w(dy)``,
so the dilation is one horizontal OR-run per distinct width followed by one OR per row
offset: O(theta) array operations per image instead of one distance transform per class.
A boundary pixel of class c then matches when bit c of the other side's dilated set is on.
The arrays are laid out flat with zero padding so that every shift is a contiguous 1-D
slice operation, and work buffers are reused between images of the same size. Measured
on the 101 CamVid validation label maps (bench/bench_evaluation.py): tens of times faster
than per-class SciPy distance transforms, with identical results.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np

from pixelseg.errors import ConfigurationError, DataError

__all__ = ["bf_score", "bf_threshold", "disk_half_widths", "label_boundaries"]

#: MATLAB's default BF tolerance: 0.75 % of the image diagonal.
BF_TOLERANCE_FRACTION = 0.0075


def bf_threshold(shape: tuple[int, int]) -> float:
    """Default distance tolerance in pixels for an H x W image: 0.0075 * sqrt(H^2 + W^2)."""
    h, w = int(shape[0]), int(shape[1])
    return BF_TOLERANCE_FRACTION * math.sqrt(h * h + w * w)


def disk_half_widths(threshold: float) -> np.ndarray:
    """Half-widths ``w[|dy|]`` of the grid disk ``dy**2 + dx**2 < threshold**2``.

    Returns an int array of length ``R + 1`` (``R`` the largest ``|dy|`` in the disk);
    row ``dy`` of the disk is ``|dx| <= w[|dy|]``. Empty (length 0) when ``threshold <= 0``
    (then no point can match).
    """
    t2 = float(threshold) ** 2
    widths = []
    dy = 0
    while dy * dy < t2:
        rest = t2 - dy * dy
        w = math.isqrt(int(rest))
        while w > 0 and w * w >= rest:
            w -= 1
        widths.append(w)
        dy += 1
    return np.array(widths, dtype=np.int64)


def label_boundaries(labels: np.ndarray) -> np.ndarray:
    """H x W bool: pixels that lie on the boundary of their own label's region.

    A pixel is a boundary pixel when one of its 4-neighbours holds a different value or it
    lies on the image border. For every value c, ``boundaries & (labels == c)`` equals
    ``(labels == c)`` minus its erosion by the 4-connected cross with zero padding.
    """
    h, w = labels.shape
    edge = np.ones((h, w), dtype=bool)
    if h > 2 and w > 2:
        inner = labels[1:-1, 1:-1]
        same = labels[:-2, 1:-1] == inner
        same &= labels[2:, 1:-1] == inner
        same &= labels[1:-1, :-2] == inner
        same &= labels[1:-1, 2:] == inner
        edge[1:-1, 1:-1] = ~same
    return edge


class _Layout:
    """Flat, zero-padded layout in which a shift of the flattened array is an exact 2-D shift.

    An H x W image is stored in rows of stride ``S = W + wm`` (``wm`` padding columns on the
    right) with ``R`` padding rows above and below, ``R``/``wm`` the disk's reach. A flat shift
    by ``|dx| <= wm`` moves a pixel within its row or into a padding column (never onto
    another image pixel), and a shift by ``dy * S`` moves it ``dy`` rows; values that leave
    the array are dropped. So dilations are 1-D slice operations on contiguous memory.
    Work buffers are kept between images of the same size (one layout per thread).
    """

    def __init__(self, shape: tuple[int, int], widths: np.ndarray) -> None:
        self.key = (tuple(shape), tuple(int(w) for w in widths))
        self.h, self.w = shape
        self.rows = max(len(widths) - 1, 0)
        self.pad = int(widths.max()) if len(widths) else 0
        self.stride = self.w + self.pad
        self.shape = (self.h + 2 * self.rows, self.stride)
        self.size = self.shape[0] * self.shape[1]
        self.widths = widths
        self._buffers: dict = {}

    def buffer(self, name: str, dtype) -> np.ndarray:
        """A flat work array (contents undefined) reused between calls."""
        key = (name, np.dtype(dtype).str)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty(self.size, dtype)
        return buf

    def edge_codes(self, labels: np.ndarray, name: str) -> np.ndarray:
        """Flat uint8: a boundary pixel's class, 255 elsewhere (and in the padding)."""
        key = ("codes " + name, "u1")
        codes = self._buffers.get(key)
        if codes is None:
            codes = self._buffers[key] = np.full(self.size, _NO_CLASS, np.uint8)
        view = codes.reshape(self.shape)[self.rows:self.rows + self.h, : self.w]
        view[...] = labels
        np.copyto(view, np.uint8(_NO_CLASS), where=~label_boundaries(labels))
        return codes

    def dilate(self, bits: np.ndarray) -> np.ndarray:
        """OR of ``bits`` over the disk ``dy**2 + dx**2 < theta**2`` around each pixel
        (returned in a work buffer that the next call overwrites)."""
        widths = self.widths
        out = self.buffer("dilated", bits.dtype)
        if len(widths) == 0:
            out[...] = 0
            return out
        runs = {0: bits}
        run = bits
        for w in range(1, self.pad + 1):  # horizontal runs |dx| <= w, one per width
            nxt = self.buffer(f"run {w}", bits.dtype)
            np.copyto(nxt, run)
            nxt[w:] |= bits[:-w]
            nxt[:-w] |= bits[w:]
            runs[w] = run = nxt
        np.copyto(out, runs[int(widths[0])])
        for dy in range(1, len(widths)):  # rows dy above and below, each with its width
            shift = dy * self.stride
            r = runs[int(widths[dy])]
            out[shift:] |= r[:-shift]
            out[:-shift] |= r[shift:]
        return out


_LOCAL = threading.local()
_KEEP_BUFFERS_UP_TO = 4_000_000  # pixels: a layout this large keeps its work buffers between calls


def _layout(shape: tuple[int, int], widths: np.ndarray) -> _Layout:
    layout = getattr(_LOCAL, "layout", None)
    if layout is None or layout.key != (tuple(shape), tuple(int(w) for w in widths)):
        layout = _LOCAL.layout = _Layout(shape, widths)
    return layout


_BIT_TYPES = ((16, np.uint16), (32, np.uint32), (64, np.uint64))
_NO_CLASS = 255  # code of pixels that are not a boundary point of any class


def _as_label_codes(labels: np.ndarray, k: int) -> np.ndarray:
    """uint8 labels where every value outside 0..K-1 becomes 255 (no class)."""
    if labels.dtype == np.uint8:
        if labels.size == 0 or int(labels.max()) < k:
            return labels
        out = labels.copy()
        out[labels >= k] = _NO_CLASS
        return out
    out = np.full(labels.shape, _NO_CLASS, np.uint8)
    valid = (labels >= 0) & (labels < k)
    out[valid] = labels[valid]
    return out


def _bincount(values: np.ndarray, minlength: int) -> np.ndarray:
    torch = sys.modules.get("torch")  # its CPU bincount takes uint8 without a cast
    if torch is not None and values.dtype == np.uint8:
        return torch.bincount(torch.from_numpy(values), minlength=minlength).numpy()
    return np.bincount(values, minlength=minlength)


def _side_counts(layout: _Layout, codes: np.ndarray, rel: np.ndarray, other_near: np.ndarray, first: int,
                 count: int, dtype, k: int) -> np.ndarray:
    """(2, count): matched and total boundary points of classes first..first+count-1.

    ``codes``: flat uint8 class of each boundary pixel (255 elsewhere); ``rel``: the same
    minus ``first`` in the bit-set dtype; ``other_near``: the other side's dilated bit sets;
    ``k``: every code is ``< k`` or 255.
    """
    hit = np.right_shift(other_near, rel, out=layout.buffer("hit", dtype))
    hit &= dtype(1)
    if k <= 127:  # uint8 (code << 1 | hit) stays below the 254 that 255 ("no class") becomes
        code = np.left_shift(codes, 1, out=layout.buffer("code", np.uint8))
        np.bitwise_or(code, hit, out=code, casting="unsafe")
        table = _bincount(code, 256)[: 2 * k]
    else:
        code = layout.buffer("code", np.uint16)
        np.copyto(code, codes)
        code <<= 1
        np.bitwise_or(code, hit, out=code, casting="unsafe")
        table = np.bincount(code, minlength=512)[:512]
    table = table.reshape(-1, 2)[first:first + count]
    return np.stack([table[:, 1], table.sum(axis=1)])


def bf_score(pred: np.ndarray, truth: np.ndarray, num_classes: int, threshold: float | None = None,
             source: str = "<array>") -> np.ndarray:
    """BF (boundary F1) score of each class for one image.

    Args:
        pred: H x W integer predicted class indices 0..K-1.
        truth: H x W integer true labels; any value outside 0..K-1 (void) belongs to no class,
            and the prediction at those pixels is not scored (it belongs to no class either).
        num_classes: K (1..255).
        threshold: distance tolerance in pixels; default :func:`bf_threshold` (0.75 % of
            the image diagonal, MATLAB's default).
        source: image name for error messages.

    Returns:
        np.ndarray (K,) float64: BF score per class in [0, 1]; NaN for a class absent from
        both truth and prediction, 0 for a class present in only one (see module docstring).

    Raises:
        DataError: ``pred`` and ``truth`` are not 2-D arrays of the same shape.
        ConfigurationError: ``threshold`` is negative or not finite, or K is not in 1..255.
    """
    pred = np.asarray(pred)
    truth = np.asarray(truth)
    if pred.ndim != 2 or pred.shape != truth.shape:
        raise DataError(
            f"{source}: BF score needs two H x W label maps of the same size, got prediction "
            f"{pred.shape} and ground truth {truth.shape}"
        )
    k = int(num_classes)
    if not 1 <= k <= 255:
        raise ConfigurationError(f"num_classes must be in 1..255, got {num_classes!r}")
    if threshold is None:
        threshold = bf_threshold(pred.shape)
    if not math.isfinite(threshold) or threshold < 0:
        raise ConfigurationError(f"BF threshold must be a finite distance >= 0 pixels, got {threshold!r}")
    layout = _layout(pred.shape, disk_half_widths(threshold))
    truth_labels = _as_label_codes(truth, k)
    pred_labels = _as_label_codes(pred, k)
    void = truth_labels == _NO_CLASS
    if void.any():
        pred_labels = np.where(void, np.uint8(_NO_CLASS), pred_labels)  # a new array: never the caller's
    pred_codes = layout.edge_codes(pred_labels, "pred")
    truth_codes = layout.edge_codes(truth_labels, "truth")
    stats = np.zeros((4, k), dtype=np.int64)  # matched pred, pred points, matched truth, truth points
    for first in range(0, k, 64):
        count = min(64, k - first)
        dtype = next(t for n, t in _BIT_TYPES if count <= n)
        p_rel = _relative(layout, pred_codes, first, dtype, "pred")
        t_rel = _relative(layout, truth_codes, first, dtype, "truth")
        # numpy shifts by the bit width or more give 0: other chunks and 255 set no bit
        bits = np.left_shift(dtype(1), t_rel, out=layout.buffer("bits", dtype))
        stats[0:2, first:first + count] = _side_counts(layout, pred_codes, p_rel, layout.dilate(bits), first,
                                                       count, dtype, k)
        bits = np.left_shift(dtype(1), p_rel, out=layout.buffer("bits", dtype))
        stats[2:4, first:first + count] = _side_counts(layout, truth_codes, t_rel, layout.dilate(bits), first,
                                                       count, dtype, k)
    if layout.size > _KEEP_BUFFERS_UP_TO:
        _LOCAL.layout = None  # do not hold large work buffers between calls
    return bf_from_counts(stats)


def _relative(layout: _Layout, codes: np.ndarray, first: int, dtype, name: str) -> np.ndarray:
    rel = layout.buffer("rel " + name, dtype)
    np.copyto(rel, codes)
    if first:
        rel -= dtype(first)  # classes below ``first`` wrap to huge shift amounts
    return rel


def bf_from_counts(stats: np.ndarray) -> np.ndarray:
    """BF per class from counts (4, K): matched predicted, predicted, matched true, true
    boundary points. NaN when both boundaries are empty, 0 when one is."""
    matched_p, n_p, matched_t, n_t = (stats[i].astype(np.float64) for i in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_p > 0, matched_p / np.maximum(n_p, 1), 0.0)
        recall = np.where(n_t > 0, matched_t / np.maximum(n_t, 1), 0.0)
        total = precision + recall
        bf = np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1), 0.0)
    bf[(n_p == 0) & (n_t == 0)] = np.nan
    return bf
