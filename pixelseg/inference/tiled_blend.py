"""The tile layout and the streaming blend of tiled inference, in two passes so that tile rows
can be computed apart (on Ray workers, :mod:`pixelseg.inference.tiled_ray`) and still give,
pixel for pixel, the labels of one process.

The rows of tile row i's band are of three kinds:

- top: the ``overlap`` rows shared with tile row i-1 (when there is one); their sums need
  row i-1's scores (the *down carry*);
- middle: the rows after them, up to ``step`` (to the end of the tiles in the last tile
  row): final within tile row i;
- bottom: the rows shared with tile row i+1; their label is row i+1's, which receives this
  row's weighted scores on them, summed over the row's tiles (the down carry).

Pass 1, :func:`label_tile_row`, needs only tile row i's pixels: the network's softmax scores
of each tile times the blending window; the middle rows blended across the row (each tile plus
the *right carry*, the previous tile's sums on the shared columns) and labelled (argmax); the
top rows' weighted scores kept per tile; the down carry summed. Pass 2, :func:`finish_rows`,
takes the rows in order and completes each top strip with the previous row's down carry.

Every sum is made in the order of one pass over all the tiles (own weighted scores, then the
right carry, then the down carry; the down carry as 0 + tile 0 + tile 1 ...), and the rows of
a tile are independent in every operation, so the labels do not depend on where pass 1 ran
(IEEE float addition and multiplication round the same on every device). The argmax of a
weighted sum needs no normalisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from pixelseg.errors import ConfigurationError

WINDOWS = ("cosine", "triangular", "uniform")


def blend_window(size: int, kind: str = "cosine") -> np.ndarray:
    """1-D blending weights (float32, length ``size``, all > 0).

    ``cosine``: the Hann window sampled at pixel centres, ``sin(pi (t + 0.5) / size) ** 2``;
    ``triangular``: ``1 - |2 (t + 0.5) / size - 1|``; ``uniform``: ones (plain averaging).

    Raises:
        ConfigurationError: an unknown ``kind``.
    """
    t = (np.arange(size, dtype=np.float64) + 0.5) / size
    if kind == "cosine":
        w = np.sin(np.pi * t) ** 2
    elif kind == "triangular":
        w = 1.0 - np.abs(2.0 * t - 1.0)
    elif kind == "uniform":
        w = np.ones(size)
    else:
        raise ConfigurationError(f"window must be one of {WINDOWS}, got {kind!r}")
    return np.maximum(w, 1e-6).astype(np.float32)


class TileAxis:
    """Tile layout along one axis: ``count`` tiles of ``size`` at ``start(i) = i * step``,
    covering ``length`` (the last tile may run past the end; that part is padded).

    ``count`` is the fewest tiles of at most ``tile`` pixels that cover ``length`` with the
    given overlap; their size is then shrunk to the smallest that still covers it (at least
    twice the overlap), so that little of the last tile is padding: 2048 pixels in tiles of
    512 with overlap 64 become 5 tiles of 461 (2,305 pixels computed) rather than 5 of 512
    (2,560).
    """

    def __init__(self, length: int, tile: int, overlap: int):
        if length <= tile:
            self.size, self.overlap, self.count = length, 0, 1
        else:
            self.overlap = overlap
            self.count = 1 + math.ceil((length - tile) / (tile - overlap))
            self.size = min(tile, max(2 * overlap, math.ceil((length + (self.count - 1) * overlap) / self.count)))
        self.length = length
        self.step = self.size - self.overlap
        self.padded = (self.count - 1) * self.step + self.size

    def start(self, i: int) -> int:
        return i * self.step


def tile_weights(rows: TileAxis, cols: TileAxis, window: str, device) -> torch.Tensor:
    """The 2-D blending weights of one tile: rows.size x cols.size float32 on ``device``."""
    return torch.from_numpy(np.outer(blend_window(rows.size, window), blend_window(cols.size, window))).to(device)


def read_band(source, rows: TileAxis, cols: TileAxis, i: int) -> np.ndarray:
    """The pixels of tile row i: rows.size x cols.padded x C (the source's dtype), the part
    past the image's bottom or right edge padded by mirroring (numpy's ``symmetric``).

    Raises:
        DataError: the source cannot read those rows.
    """
    y0 = rows.start(i)
    y1 = min(y0 + rows.size, source.height)
    band = source.read_rows(y0, y1)
    pad_y = rows.size - (y1 - y0)
    pad_x = cols.padded - source.width
    if pad_y or pad_x:
        band = np.pad(band, ((0, pad_y), (0, pad_x), (0, 0)), mode="symmetric")
    return band


@dataclass
class RowPart:
    """What pass 1 leaves of tile row ``i`` (tensors, or numpy arrays to cross processes).

    Attributes:
        i: the tile row.
        labels: the middle rows' labels, uint8 (rows x cols.padded).
        tops: the top rows' weighted scores per tile, float32 (cols.count x K x overlap x
            cols.size); None when the row shares no rows with the row above.
        next_down: the down carry for row i+1, float32 (K x overlap x cols.padded); None
            when no row follows or the rows do not overlap.
    """

    i: int
    labels: torch.Tensor
    tops: torch.Tensor | None
    next_down: torch.Tensor | None

    def numpy(self) -> RowPart:
        """The same part with numpy arrays (on the CPU)."""
        return RowPart(self.i, *(None if t is None else t.cpu().numpy() for t in (self.labels, self.tops, self.next_down)))

    def tensors(self) -> RowPart:
        """The same part with CPU tensors of their own (copies, so that pass 2 may change them)."""
        return RowPart(self.i, *(None if a is None else torch.tensor(a) for a in (self.labels, self.tops, self.next_down)))


class _RowStrip:
    """Blends the tiles of one tile row over a strip of its rows, left to right: each block
    gets the right carry, then (for a top strip) the down carry of the columns the right
    carry does not hold; its final columns are labelled into ``labels``."""

    def __init__(self, cols: TileAxis, height: int, device, down: torch.Tensor | None = None):
        self.cols, self.down, self.right = cols, down, None
        self.labels = torch.empty(height, cols.padded, dtype=torch.uint8, device=device)

    def add(self, j: int, block: torch.Tensor) -> None:
        """block: tile j's weighted scores on the strip (K x height x cols.size), changed in place."""
        cols = self.cols
        ow, x0 = cols.overlap, cols.start(j)
        if self.right is not None:
            block[:, :, :ow] += self.right
        if self.down is not None:
            c0 = ow if j > 0 else 0
            block[:, :, c0:] += self.down[:, :, x0 + c0 : x0 + cols.size]
        # a view: block is not touched again, so no copy is needed
        self.right = block[:, :, cols.step :] if ow and j + 1 < cols.count else None
        final_cols = cols.size if j == cols.count - 1 else cols.step
        self.labels[:, x0 : x0 + final_cols] = block[:, :, :final_cols].max(0).indices.to(torch.uint8)


def tile_scores(predictor, band: np.ndarray, cols: TileAxis, mini_batch_size: int) -> Iterator[tuple[int, torch.Tensor]]:
    """(j, softmax scores K x rows x cols.size float32) of the tiles of one band, left to
    right, ``mini_batch_size`` tiles per forward pass (batches never span two tile rows)."""
    for first in range(0, cols.count, mini_batch_size):
        js = range(first, min(first + mini_batch_size, cols.count))
        x = predictor.to_input(np.stack([band[:, cols.start(j) : cols.start(j) + cols.size] for j in js]))
        yield from zip(js, predictor.scores(x))


def label_tile_row(predictor, band: np.ndarray, rows: TileAxis, cols: TileAxis, i: int, weights: torch.Tensor,
                   mini_batch_size: int, on_tile: Callable[[], None] | None = None) -> RowPart:
    """Pass 1 of tile row i (see the module docstring) from its pixels ``band``
    (:func:`read_band`), with the ``predictor``'s network on its device.

    Raises:
        ConfigurationError, DataError: as :class:`~pixelseg.inference.predictor.Predictor`
            raises them for the tiles.
    """
    oh = rows.overlap
    top = oh if i > 0 else 0
    final_rows = rows.size if i == rows.count - 1 else rows.step
    middle = _RowStrip(cols, final_rows - top, predictor.device)
    tops: list[torch.Tensor] = []
    next_down = None
    with torch.inference_mode():
        for j, probs in tile_scores(predictor, band, cols, mini_batch_size):
            own = probs * weights  # this tile's own weighted scores
            if oh and i + 1 < rows.count:  # own scores only: taken before any carry is added
                if next_down is None:
                    next_down = torch.zeros(own.shape[0], oh, cols.padded, device=own.device)
                next_down[:, :, cols.start(j) : cols.start(j) + cols.size] += own[:, rows.step :]
            if top:
                tops.append(own[:, :top].clone())  # a copy: a view would keep the whole tile
            middle.add(j, own[:, top:final_rows])
            if on_tile is not None:
                on_tile()
    return RowPart(i, middle.labels, torch.stack(tops) if tops else None, next_down)


def finish_rows(parts: Iterable[RowPart], rows: TileAxis, cols: TileAxis, width: int) -> Iterator[tuple[int, np.ndarray]]:
    """Pass 2: (y0, label rows x width uint8) of each tile row, cropped to the image, from the
    parts of pass 1 in tile row order (tensors; only two rows' carries are held at a time).

    Raises:
        ValueError: the parts are not tile rows 0, 1, 2... in order.
    """
    down = None
    for expected, part in enumerate(parts):
        if part.i != expected:
            raise ValueError(f"tile row {part.i} arrived where row {expected} was expected")
        labels = part.labels
        if part.tops is not None:
            strip = _RowStrip(cols, part.tops.shape[2], part.tops.device, down)
            for j, block in enumerate(part.tops):
                strip.add(j, block)
            labels = torch.cat([strip.labels, labels])
        down = part.next_down
        y0 = rows.start(part.i)
        n = min(labels.shape[0], rows.length - y0)
        yield y0, labels[:n, :width].cpu().numpy()
