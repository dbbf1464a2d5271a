"""Tiled inference for images larger than memory (MATLAB ``blockedImage`` + ``apply``).

The image is cut into overlapping tiles (``tile_size``, ``overlap``); the network's softmax
scores of each tile are weighted by a window that falls towards the tile's edges (cosine by
default) and summed where tiles overlap, so no seam appears where two tiles meet. The class
of a pixel is the argmax of its weighted sum, which equals the argmax of the weighted mean.

Memory is bounded by the tiles, not by the image: tiles are read lazily one tile row (band)
at a time from a tiled or stripped TIFF through ``tifffile``'s zarr store (the next band is
read in a background thread while the network works), and only the carries of the blend are
kept: the overlap with the next tile in the row (K x tile x overlap), and the overlaps with
the tile rows above and below (K x overlap x width each); see
:mod:`pixelseg.inference.tiled_blend`. Finished label rows are written straight into a tiled
TIFF.

``engine="ray"`` computes the tile rows on Ray workers instead, which read the image file
themselves; this process blends them into the same labels and writes the same file
(:mod:`pixelseg.inference.tiled_ray`).
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pixelseg.errors import ConfigurationError
from pixelseg.inference import geo
from pixelseg.inference.predictor import Predictor, default_class_set
from pixelseg.inference.tiled_blend import (
    WINDOWS,
    TileAxis,
    blend_window,
    finish_rows,
    label_tile_row,
    read_band,
    tile_weights,
)
from pixelseg.inference.tiled_io import open_image_source, write_label_tiff

__all__ = ["semanticseg_tiled", "blend_window", "WINDOWS"]

#: The tile layout along one axis (the name tests and benchmarks know it by).
_Axis = TileAxis


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
    engine: str = "local",
    ray_address: str | None = None,
    num_workers: int | None = None,
    threads_per_worker: int = 1,
    gpus_per_worker: float = 0,
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
        mini_batch_size: tiles per forward pass (bounds memory with the tile size); a
            pass never spans two tile rows.
        device, tta: as for ``semanticseg``.
        window: blending weights, "cosine" (default), "triangular" or "uniform".
        class_set: the ClassSet whose colours the output palette carries (default the
            TrainedNetwork's, else :func:`~pixelseg.inference.default_colormap`).
        overwrite: replace an existing ``out_path``. progress: a tqdm bar over tiles.
        tiff_tile: tile edge of the written TIFF (a multiple of 16).
        bands: the 1-based bands of a raster file to read, e.g. ``(4, 3, 2)`` or ``"4,3,2"``
            (read through rasterio; default: the first ``in_channels``).
        cog: write ``out_path`` (``.tif``) as a Cloud Optimized GeoTIFF (needs rasterio).
        engine: "local" (this process) or "ray": the tile rows are labelled by Ray worker
            processes, which read their bands from ``image`` themselves (a file path, at
            the same path on every node), and this process blends and writes them; the
            labels are those of "local", pixel for pixel. ``net`` may then also be a saved
            network's path; the ``ray`` extra. See :mod:`pixelseg.inference.tiled_ray`.
        ray_address, num_workers, threads_per_worker, gpus_per_worker: with ``engine="ray"``,
            as for :func:`~pixelseg.inference.distributed.semanticseg_ray` (the workers are at
            most one per tile row).

    With rasterio, pixels that a GeoTIFF marks as holding no data (all bands equal to its
    nodata value, an internal mask, alpha 0) are labelled 255 (void).

    Returns:
        H x W uint8 label map (class indices) when ``out_path`` is None, else the Path
        written.

    Raises:
        ConfigurationError: bad tile/overlap/window/bands/engine options; channel count not
            the network's; ``cog`` without a ``.tif`` ``out_path``; ``engine="ray"`` with an
            array. DataError: an image that cannot be read; a band it does not have; a
            network file that is not a pixelseg checkpoint (``engine="ray"``).
        MissingExtraError: ``bands`` or ``cog`` without rasterio (the ``geo`` extra);
            ``engine="ray"`` without ray (``pip install "pixelseg[ray]"``).
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
    if engine == "ray":
        from pixelseg.inference.tiled_ray import RayTileLabeller

        predictor = RayTileLabeller(image, net, via_rasterio, bands, device=device, tta=tta, ray_address=ray_address,
                                    num_workers=num_workers, threads_per_worker=threads_per_worker,
                                    gpus_per_worker=gpus_per_worker)
    elif engine != "local" or (ray_address, num_workers, threads_per_worker, gpus_per_worker) != (None, None, 1, 0):
        raise ConfigurationError(f"engine must be 'local' or 'ray' (ray_address, num_workers, threads_per_worker and "
                                 f"gpus_per_worker only with 'ray'), got {engine!r}")
    else:
        predictor = Predictor(net, device=device, tta=tta)
    opened = (geo.open_geo_source(image, predictor.in_channels, bands) if via_rasterio
              else open_image_source(image, predictor.in_channels))
    with opened as source, predictor:
        predictor.check_channels(source.channels, source=source.name)
        rows = TileAxis(source.height, th, oh)
        cols = TileAxis(source.width, tw, ow)
        label = predictor.label_bands if engine == "ray" else functools.partial(_label_bands, predictor)
        finished = label(source, rows, cols, mini_batch_size, window, progress)
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


def _bands(source, rows: TileAxis, cols: TileAxis) -> Iterator[tuple[int, np.ndarray]]:
    """(i, the pixels of tile row i) in order; the next band is read in a background thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(read_band, source, rows, cols, 0)
        for i in range(rows.count):
            band = future.result()
            if i + 1 < rows.count:
                future = pool.submit(read_band, source, rows, cols, i + 1)
            yield i, band


def _label_bands(predictor, source, rows, cols, mini_batch_size, window, progress):
    """Yield (y0, labels band) for consecutive finished row bands, cropped to the image."""
    from tqdm.auto import tqdm

    weights = tile_weights(rows, cols, window, predictor.device)
    bar = tqdm(total=rows.count * cols.count, disable=not progress, desc="tiles", unit="tile")
    parts = (label_tile_row(predictor, band, rows, cols, i, weights, mini_batch_size, lambda: bar.update(1))
             for i, band in _bands(source, rows, cols))
    try:
        yield from finish_rows(parts, rows, cols, source.width)
    finally:
        bar.close()
