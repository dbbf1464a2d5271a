"""``semanticseg_tiled(..., engine="ray")``: the tile rows of one large image labelled by Ray
workers, blended and written into one tiled output by this process (``pixelseg predict
--tile-size N --ray ADDRESS``).

How it runs (Ray actors, no Ray Data): ``num_workers`` actors (:class:`TileRowActor`), each
started with the network's checkpoint bytes (the network is sent once per worker) and
``threads_per_worker`` torch threads, open the image file themselves (so the driver ships no
pixels: the file must be at the same path on every node) and run pass 1 of
:mod:`pixelseg.inference.tiled_blend` on one tile row at a time: they read its band, compute
the softmax scores of its tiles, blend and label its middle rows, and send back those labels
(uint8) with the float32 scores of the rows it shares with its neighbours (the top strip per
tile, and the down carry: together about ``2 * overlap / tile`` of the row's scores). This
process takes the rows in order, completes each top strip with the previous row's down carry
(pass 2), applies a GeoTIFF's nodata mask and streams the label rows into the writer of the
single-process path (tiled TIFF, GeoTIFF or COG with the CRS and transform kept). The sums are
those of the single-process path, in the same order, so the label file is the same pixel for
pixel (for the same network on the same kind of device).

Memory is bounded: at most ``2 * num_workers`` tile rows are submitted ahead of the next row
to write, whatever the number of rows, and this process holds only the carries of one row.
Needs the ``ray`` extra (``pip install "pixelseg[ray]"``).
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Iterator
from typing import Any

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference.distributed import (
    _REPORTED,
    FEATURE,
    _check_counts,
    _default_workers,
    _network_payload,
    network_from_payload,
    ray_session,
)
from pixelseg.inference.predictor import network_in_channels
from pixelseg.inference.tiled_blend import RowPart, TileAxis, finish_rows, label_tile_row, read_band, tile_weights
from pixelseg.utils.extras import require

__all__ = ["RayTileLabeller", "TileRowActor"]

#: Tile rows submitted ahead of the next one to write, per worker.
AHEAD_PER_WORKER = 2


class RayTileLabeller:
    """The Ray side of :func:`~pixelseg.inference.tiled.semanticseg_tiled`: stands in for its
    ``Predictor`` (``in_channels``, ``class_set``, ``check_channels``, ``probe_num_classes``)
    and labels the tile rows on Ray (:meth:`label_bands`).

    Args:
        image: the image file (read by the workers; an array is refused).
        net: a ``TrainedNetwork``, a network of ``pixelseg.models`` or a saved network's path.
        geo: read through rasterio (:func:`~pixelseg.inference.geo.reads_with_rasterio`).
        bands: the 1-based bands read, as for ``semanticseg_tiled``.
        device, tta: the workers' (``"auto"`` without ``gpus_per_worker``: their CPUs).
        ray_address, num_workers, threads_per_worker, gpus_per_worker: as for
            :func:`~pixelseg.inference.distributed.semanticseg_ray`.

    Raises:
        MissingExtraError: ray is not installed (one sentence naming ``pip install "pixelseg[ray]"``).
        ConfigurationError: ``image`` is not a file path; a bad count.
        DataError: a network file that is not a pixelseg checkpoint.
    """

    def __init__(self, image, net, geo: bool, bands, *, device="auto", tta=False, ray_address: str | None = None,
                 num_workers: int | None = None, threads_per_worker: int = 1, gpus_per_worker: float = 0):
        self.ray = require("ray", "ray", FEATURE)
        if not isinstance(image, (str, os.PathLike)):
            raise ConfigurationError('engine="ray" reads the image on the workers: give the path of an image file '
                                     f"(save the array as a TIFF first), not {type(image).__name__}")
        _check_counts(num_workers=num_workers, threads_per_worker=threads_per_worker)
        if gpus_per_worker < 0:
            raise ConfigurationError(f"gpus_per_worker must be >= 0, got {gpus_per_worker!r}")
        self.trained, self.payload = _network_payload(net)
        self.in_channels = network_in_channels(self.trained.network)
        self.class_set = self.trained.class_set
        self.image, self.geo, self.bands, self.tta = os.path.abspath(image), geo, bands, tta
        self.device = "cpu" if device == "auto" and not gpus_per_worker else device
        self.address, self.workers = ray_address, num_workers
        self.threads, self.gpus = threads_per_worker, gpus_per_worker
        self._exit = contextlib.ExitStack()

    def check_channels(self, channels: int, source: str = "the image") -> None:
        """ConfigurationError when the network does not take ``channels`` channels."""
        if self.in_channels is not None and channels != self.in_channels:
            raise ConfigurationError(f"{source} has {channels} channel(s) but the network takes {self.in_channels} "
                                     f"(in_channels={self.in_channels})")

    def probe_num_classes(self) -> int:
        """The network's number of classes."""
        return self.trained.num_classes

    def __enter__(self) -> RayTileLabeller:
        return self

    def __exit__(self, *exc) -> None:
        self._exit.close()  # the actors, then Ray when this call started it

    def label_bands(self, source, rows: TileAxis, cols: TileAxis, mini_batch_size: int, window: str, progress: bool):
        """Yield (y0, label rows x W uint8) of each tile row in order (see the module docstring).

        Raises:
            DataError, ConfigurationError: a worker's, with its message.
        """
        from tqdm.auto import tqdm

        ray = self.ray
        self._exit.enter_context(ray_session(ray, self.address, self.workers * self.threads if self.workers else None))
        count = min(rows.count, self.workers or _default_workers(ray, self.threads, self.gpus))
        remote = ray.remote(TileRowActor).options(num_cpus=self.threads, num_gpus=self.gpus or None)
        options = {"image": self.image, "geo": self.geo, "bands": self.bands, "channels": self.in_channels,
                   "rows": rows, "cols": cols, "window": window, "mini_batch_size": mini_batch_size,
                   "device": self.device, "tta": self.tta}
        payload = ray.put(self.payload)
        actors = [remote.remote(payload, self.threads, options) for _ in range(count)]
        self._exit.callback(lambda: [ray.kill(a) for a in actors])  # runs before Ray is shut down
        bar = self._exit.enter_context(tqdm(total=rows.count * cols.count, disable=not progress,
                                            desc="tiles (ray)", unit="tile"))
        parts = _in_order(ray, actors, rows.count, AHEAD_PER_WORKER * count, lambda: bar.update(cols.count))
        yield from finish_rows(parts, rows, cols, source.width)


def _in_order(ray, actors: list, count: int, ahead: int, on_row) -> Iterator[RowPart]:
    """The parts (CPU tensors) of tile rows 0..count-1 in order, from ``actors``: each idle
    actor takes the next row while fewer than ``ahead`` rows wait to be taken in order."""
    idle, running, done = deque(actors), {}, {}
    submitted = 0
    for i in range(count):
        while i not in done:
            while idle and submitted < count and submitted - i < ahead:
                actor = idle.popleft()
                running[actor.label_row.remote(submitted)] = (submitted, actor)
                submitted += 1
            ready, _ = ray.wait(list(running), num_returns=1)
            row, actor = running.pop(ready[0])
            idle.append(actor)
            done[row] = ready[0]
        result = ray.get(done.pop(i))
        if "error" in result:
            raise _REPORTED.get(result["kind"], DataError)(result["error"])
        on_row()
        yield result["part"].tensors()


class TileRowActor:
    """One Ray worker: rebuilds the network once, opens the image once, then runs pass 1 of
    :mod:`pixelseg.inference.tiled_blend` on the tile rows it is given.

    Args:
        checkpoint: the bytes of a saved network (``TrainedNetwork.save``).
        threads: torch threads of this worker.
        options: ``image`` (path), ``geo`` (read through rasterio), ``bands``, ``channels``
            (the network's), ``rows`` and ``cols`` (the :class:`TileAxis` layout), ``window``,
            ``mini_batch_size``, ``device``, ``tta``.

    :meth:`label_row` returns ``{"part": RowPart}`` (numpy arrays: middle labels uint8
    rows x padded width, top strips float32 tiles x K x overlap x tile, down carry float32
    K x overlap x padded width) or ``{"error": message, "kind": class name}`` for a
    DataError or ConfigurationError, which the driver raises as the single-process path would
    (Ray would wrap them in its own exception).
    """

    def __init__(self, checkpoint: bytes, threads: int, options: dict[str, Any]):
        self.checkpoint, self.threads, self.options = checkpoint, threads, options
        self.predictor = self.source = None
        self._exit = contextlib.ExitStack()

    def _open(self) -> None:
        """Network, image and weights, at the first row (errors are then reported as the rows')."""
        from pixelseg.inference import geo
        from pixelseg.inference.predictor import Predictor
        from pixelseg.inference.tiled_io import open_image_source

        o = self.options
        predictor = Predictor(network_from_payload(self.checkpoint, self.threads), device=o["device"], tta=o["tta"])
        opened = (geo.open_geo_source(o["image"], o["channels"], o["bands"]) if o["geo"]
                  else open_image_source(o["image"], o["channels"]))
        self.source = self._exit.enter_context(opened)
        self.weights = tile_weights(o["rows"], o["cols"], o["window"], predictor.device)
        self.predictor = self._exit.enter_context(predictor)  # eval mode

    def label_row(self, i: int) -> dict[str, Any]:
        """Pass 1 of tile row ``i``."""
        o = self.options
        try:
            if self.predictor is None:
                self._open()
            band = read_band(self.source, o["rows"], o["cols"], i)
            part: RowPart = label_tile_row(self.predictor, band, o["rows"], o["cols"], i, self.weights,
                                           o["mini_batch_size"])
        except (DataError, ConfigurationError) as exc:
            return {"error": str(exc), "kind": type(exc).__name__}
        return {"part": part.numpy()}
