"""Tiled inference for images larger than memory (MATLAB ``blockedImage`` + ``apply``).

The image is cut into overlapping tiles (``tile_size``, ``overlap``); the network's softmax
scores of each tile are weighted by a window that falls towards the tile's edges (cosine by
default) and summed where tiles overlap, so no seam appears where two tiles meet. The class
of a pixel is the argmax of its weighted sum, which equals the argmax of the weighted mean.

Memory is bounded by the tiles, not by the image: tiles are read lazily one tile row (band)
at a time from a tiled or stripped TIFF through ``tifffile``'s zarr store (the next band is
read in a background thread while the network works), and only three accumulators are
kept: the current tile, the overlap with the next tile in the row (K x tile x overlap) and
the overlap with the next tile row (K x overlap x width). Finished label rows are written
straight into a tiled TIFF.
"""

from __future__ import annotations

import concurrent.futures
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from pixelseg.errors import ConfigurationError
from pixelseg.inference import geo
from pixelseg.inference.predictor import Predictor, default_class_set
from pixelseg.inference.tiled_io import open_image_source, write_label_tiff

WINDOWS = ("cosine", "triangular", "uniform")


def blend_window(size: int, kind: str = "cosine") -> np.ndarray:
    """1-D blending weights (float32, length ``size``, all > 0).

    ``cosine``: the Hann window sampled at pixel centres, ``sin(pi (t + 0.5) / size) ** 2``;
    ``triangular``: ``1 - |2 (t + 0.5) / size - 1|``; ``uniform``: ones (plain averaging).
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


class _Axis:
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


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be an int or a pair (rows, cols), got {value!r}") from None
    return a, b


def semanticseg_tiled(
    image,
    net,
    out_path=None,
    tile_size=512,
    overlap=None,
    mini_batch_size: int = 4,
    device="auto",
    tta=False,
    window: str = "cosine",
    class_set=None,
    *,
    overwrite: bool = False,
    progress: bool = True,
    tiff_tile: int = 256,
    bands=None,
    cog: bool = False,
):
    """Label a large image tile by tile with overlap and weighted blending.

    Args:
        image: a TIFF path (tiled or stripped, read lazily: only one band of tile rows is
            in memory; a GeoTIFF with a CRS is read through rasterio when the ``geo`` extra
            is installed, see :mod:`pixelseg.inference.geo`), another image file (read whole
            by Pillow), or an H x W x C array
            (numpy, ``np.memmap`` or zarr; uint8, uint16). C must be the network's input
            channels; a single-channel image may be H x W.
        net: a ``TrainedNetwork`` or ``SegmentationNetwork`` (see ``semanticseg``).
        out_path: None -> return the label map as an array (it must fit in memory);
            ``*.tif``/``*.tiff`` -> a tiled (``tiff_tile``), deflate-compressed palette TIFF
            written as the tiles finish (from a GeoTIFF: a GeoTIFF with its CRS and transform,
            nodata 255); any other suffix (``.png``) -> a palette PNG.
        tile_size: largest network input tile, int or (rows, cols); default 512. Tiles are
            shrunk to the smallest size that covers the image with the same number of tiles
            (2048 pixels in tiles of 512, overlap 64: 5 tiles of 461), so little is padding.
        overlap: pixels shared by neighbouring tiles, int or (rows, cols); at most half the
            tile; default an eighth of the tile (64 for 512). Wider overlap means smoother
            blending and more compute.
        mini_batch_size: tiles per forward pass (bounds memory with the tile size).
        device, tta: as for ``semanticseg``.
        window: blending weights, "cosine" (default), "triangular" or "uniform".
        class_set: the ClassSet whose colours the output palette carries (default the
            TrainedNetwork's, else :func:`~pixelseg.inference.default_colormap`).
        overwrite: replace an existing ``out_path``. progress: a tqdm bar over tiles.
        tiff_tile: tile edge of the written TIFF (a multiple of 16).
        bands: the 1-based bands of a raster file to read, e.g. ``(4, 3, 2)`` or ``"4,3,2"``
            (read through rasterio; default: the first ``in_channels``).
        cog: write ``out_path`` (``.tif``) as a Cloud Optimized GeoTIFF (needs rasterio).

    With rasterio, pixels that a GeoTIFF marks as holding no data (all bands equal to its
    nodata value, an internal mask, alpha 0) are labelled 255 (void).

    Returns:
        H x W uint8 label map (class indices) when ``out_path`` is None, else the Path
        written.

    Raises:
        ConfigurationError: bad tile/overlap/window/bands options; channel count not the
            network's; ``cog`` without a ``.tif`` ``out_path``. DataError: an image that
            cannot be read; a band it does not have.
        MissingExtraError: ``bands`` or ``cog`` without rasterio (the ``geo`` extra).
        FileExistsError: ``out_path`` exists and ``overwrite`` is False.
    """
    th, tw = _pair(tile_size, "tile_size")
    oh, ow = _pair((th // 8, tw // 8) if overlap is None else overlap, "overlap")
    if th < 1 or tw < 1:
        raise ConfigurationError(f"tile_size must be positive, got {tile_size!r}")
    if not (0 <= oh <= th // 2 and 0 <= ow <= tw // 2):
        raise ConfigurationError(
            f"overlap must be between 0 and half the tile size ({th // 2}, {tw // 2}), got {overlap!r}"
        )
    if not isinstance(mini_batch_size, int) or mini_batch_size < 1:
        raise ConfigurationError(f"mini_batch_size must be a positive integer, got {mini_batch_size!r}")
    blend_window(2, window)  # validates the name
    if cog:
        if out_path is None or Path(out_path).suffix.lower() not in (".tif", ".tiff"):
            raise ConfigurationError(f"cog=True writes a .tif file; out_path is {out_path!r}")
        geo.require_rasterio("Cloud Optimized GeoTIFF output (cog=True)")
    via_rasterio = geo.reads_with_rasterio(image, geo.parse_bands(bands))
    if out_path is not None:
        out_path = Path(out_path)
        if out_path.exists() and not overwrite:
            raise FileExistsError(f"{out_path} exists; pass overwrite=True (--overwrite on the command line) to replace it")
        if not out_path.parent.is_dir():
            raise FileNotFoundError(f"the folder {out_path.parent} for {out_path.name} does not exist")
    predictor = Predictor(net, device=device, tta=tta)
    opened = (geo.open_geo_source(image, predictor.in_channels, bands) if via_rasterio
              else open_image_source(image, predictor.in_channels))
    with opened as source, predictor:
        predictor.check_channels(source.channels, source=source.name)
        rows = _Axis(source.height, th, oh)
        cols = _Axis(source.width, tw, ow)
        finished = _label_bands(predictor, source, rows, cols, mini_batch_size, window, progress)
        if via_rasterio:
            finished = source.void_invalid(finished)
        if out_path is None:
            return _assemble(finished, source.height, source.width)
        palette_set = default_class_set(
            predictor.probe_num_classes(),
            class_set if class_set is not None else predictor.class_set,
        )
        colors = palette_set.colors
        if out_path.suffix.lower() in (".tif", ".tiff") and (via_rasterio or cog):
            geo.write_label_geotiff(out_path, finished, source.height, source.width, colors, tile=tiff_tile, cog=cog,
                                    crs=getattr(source, "crs", None), transform=getattr(source, "transform", None),
                                    overwrite=overwrite)
        elif out_path.suffix.lower() in (".tif", ".tiff"):
            write_label_tiff(out_path, finished, source.height, source.width, colors, tiff_tile, overwrite)
        else:
            from pixelseg.utils.atomic import save_png

            labels = _assemble(finished, source.height, source.width)
            save_png(labels, out_path, palette=palette_set.palette(), overwrite=overwrite)
        return out_path


def _assemble(bands, height: int, width: int) -> np.ndarray:
    out = np.empty((height, width), dtype=np.uint8)
    for y0, band in bands:
        out[y0 : y0 + band.shape[0]] = band
    return out


def _tiles(source, rows: _Axis, cols: _Axis) -> Iterator[tuple[int, int, np.ndarray]]:
    """(i, j, tile rows.size x cols.size x C) in row-major order; bands read one ahead."""

    def read_band(i: int) -> np.ndarray:
        y0 = rows.start(i)
        y1 = min(y0 + rows.size, source.height)
        band = source.read_rows(y0, y1)
        pad_y = rows.size - (y1 - y0)
        pad_x = cols.padded - source.width
        if pad_y or pad_x:
            band = np.pad(band, ((0, pad_y), (0, pad_x), (0, 0)), mode="symmetric")
        return band

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(read_band, 0)
        for i in range(rows.count):
            band = future.result()
            if i + 1 < rows.count:
                future = pool.submit(read_band, i + 1)
            for j in range(cols.count):
                x0 = cols.start(j)
                yield i, j, band[:, x0 : x0 + cols.size]


def _label_bands(predictor, source, rows, cols, mini_batch_size, window, progress):
    """Yield (y0, labels band) for consecutive finished row bands, cropped to the image."""
    from tqdm.auto import tqdm

    weights = torch.from_numpy(np.outer(blend_window(rows.size, window), blend_window(cols.size, window)))
    weights = weights.to(predictor.device)
    blender = _Blender(rows, cols, weights, source.width)
    bar = tqdm(total=rows.count * cols.count, disable=not progress, desc="tiles", unit="tile")
    batch: list[tuple[int, int, np.ndarray]] = []
    try:
        for tile in _tiles(source, rows, cols):
            batch.append(tile)
            if len(batch) == mini_batch_size:
                yield from _run_batch(predictor, batch, blender, bar)
        if batch:
            yield from _run_batch(predictor, batch, blender, bar)
        yield from blender.finish()
    finally:
        bar.close()


def _run_batch(predictor, batch, blender, bar):
    x = predictor.to_input(np.stack([t for _, _, t in batch]))
    with torch.inference_mode():
        probs = predictor.scores(x)
    for (i, j, _), p in zip(batch, probs):
        yield from blender.add(i, j, p)
        bar.update(1)
    batch.clear()


class _Blender:
    """Streams weighted tile scores into final label rows with bounded memory.

    For tile (i, j), its block (K x th x tw) = own weighted scores + the right carry (the
    previous tile's contribution to the shared columns, which already includes the tile
    row above) + the down carry of tile row i-1 (for the columns not covered by the right
    carry). Rows/columns not shared with a later tile are final: their argmax goes to the
    current label band. The tile's own scores on the rows shared with tile row i+1 go into
    the next down carry. The argmax of a weighted sum needs no normalisation.
    """

    def __init__(self, rows: _Axis, cols: _Axis, weights: torch.Tensor, width: int):
        self.rows, self.cols, self.w, self.width = rows, cols, weights, width
        self.row = -1
        self.down = None  # K x oh x padded width: tile row i-1's scores on rows shared with row i
        self.next_down = None
        self.right = None  # K x th x ow
        self.band = None

    def _start_row(self, i: int, k: int, device) -> list[tuple[int, np.ndarray]]:
        out = self._emit() if self.row >= 0 else []
        self.row = i
        self.down, self.next_down = self.next_down, None
        if self.rows.overlap and i + 1 < self.rows.count:
            self.next_down = torch.zeros(k, self.rows.overlap, self.cols.padded, device=device)
        final_rows = self.rows.size if i == self.rows.count - 1 else self.rows.step
        self.band = torch.empty(final_rows, self.cols.padded, dtype=torch.uint8, device=device)
        self.right = None
        return out

    def _emit(self) -> list[tuple[int, np.ndarray]]:
        y0 = self.rows.start(self.row)
        n = min(self.band.shape[0], self.rows.length - y0)
        return [(y0, self.band[:n, : self.width].cpu().numpy())]

    def add(self, i: int, j: int, probs: torch.Tensor):
        if i != self.row:
            yield from self._start_row(i, probs.shape[0], probs.device)
        rows, cols = self.rows, self.cols
        oh, ow = rows.overlap, cols.overlap
        x0 = cols.start(j)
        block = probs * self.w  # this tile's own weighted scores, then completed in place
        if self.next_down is not None:  # own scores only: taken before the carries are added
            self.next_down[:, :, x0 : x0 + cols.size] += block[:, rows.step :]
        if self.right is not None:
            block[:, :, :ow] += self.right
        if self.down is not None:
            c0 = ow if j > 0 else 0
            block[:, :oh, c0:] += self.down[:, :, x0 + c0 : x0 + cols.size]
        # a view: block is not touched again, so no copy is needed
        self.right = block[:, :, cols.step :] if ow and j + 1 < cols.count else None
        final_cols = cols.size if j == cols.count - 1 else cols.step
        final_rows = self.band.shape[0]
        self.band[:, x0 : x0 + final_cols] = block[:, :final_rows, :final_cols].max(0).indices.to(torch.uint8)

    def finish(self):
        if self.row >= 0:
            yield from self._emit()
