"""``semanticseg`` on a Ray cluster: label many image files with worker processes on one
machine or on many (``semanticseg(..., engine="ray")``, ``pixelseg predict --ray``).

How it runs (Ray Data): the file list becomes a dataset of (index, path) rows; a pool of
``num_workers`` actors (:class:`SegmenterActor`), each started once with the network's
checkpoint bytes (so the network is sent once per worker, never per batch) and
``threads_per_worker`` torch threads, labels batches of files with the single-process
:func:`~pixelseg.inference.semanticseg` and writes the label PNGs itself (atomically, the
same writer, so the files are byte for byte those of the single-process path). Only the
indices and a status come back to the driver, and Ray's streaming executor keeps a bounded
number of batches in flight, so memory does not grow with the number of files.

Resuming: outputs that already exist are complete (every write is atomic: a killed worker
leaves only a hidden ``.<name>.*.tmp.png``, never a partial ``<name>.png``), so their inputs
are not submitted again; an interrupted run is resumed by running the same command again.

On several machines (``ray start --head`` on one, ``ray start --address HEAD:6379`` on the
others, then ``ray_address="auto"`` on the head): pixelseg and torch must be installed on
every node, and the inputs and ``write_location`` must be visible at the same paths on every
node (a shared file system); the network travels through Ray's object store.

Needs the ``ray`` extra (``pip install "pixelseg[ray]"``: ``ray[data]``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.extras import require

__all__ = ["semanticseg_ray", "SegmenterActor", "FEATURE"]

_log = logging.getLogger(__name__)

#: The subject of the missing-extra sentence.
FEATURE = 'distributed inference (engine="ray", pixelseg predict --ray)'
#: Errors an actor reports instead of raising, re-raised on the driver with their message.
_REPORTED = {"DataError": DataError, "ConfigurationError": ConfigurationError, "FileExistsError": FileExistsError}


def semanticseg_ray(
    images,
    net,
    write_location,
    *,
    ray_address: str | None = None,
    num_workers: int | None = None,
    threads_per_worker: int = 1,
    gpus_per_worker: float = 0,
    mini_batch_size: int = 8,
    batch_size: int | None = None,
    name_prefix: str = "pred_",
    device="auto",
    tta=False,
    class_set=None,
    input_size="auto",
    roi=None,
    overwrite: bool = False,
    resume: bool = True,
    on_error: str = "raise",
    include_subfolders: bool = False,
    progress: bool = True,
):
    """Label image files on a Ray cluster and write one palette PNG per file.

    The outputs are those of ``semanticseg(images, net, write_location=...)`` (same names
    ``name_prefix + <stem> + ".png"``, same bytes); see the module docstring for how the
    work is spread.

    Args:
        images: an ``ImageDatastore``, a folder, a glob pattern or a list of image files.
        net: a ``TrainedNetwork``, a network of ``pixelseg.models`` (it needs its
            ``.config`` to be rebuilt on the workers), or the path of a saved network
            (``TrainedNetwork.save`` or a run checkpoint).
        write_location: the output folder (created).
        ray_address: None (the Ray instance of this process if there is one, else the
            cluster in ``RAY_ADDRESS`` or the latest one started on this machine, else a new
            one on this machine), ``"local"`` (a new one on this machine), ``"auto"`` (the
            cluster that ``ray start`` began on this machine; an error when there is none),
            or ``"HOST:PORT"`` / ``"ray://HOST:10001"``. Ray is shut down afterwards only
            when this call started it.
        num_workers: worker processes (Ray actors); default: the cluster's CPUs divided by
            ``threads_per_worker`` (its GPUs with ``gpus_per_worker``).
        threads_per_worker: torch threads (and Ray CPUs reserved) per worker; 1 by default:
            many single-threaded workers use the cores better than one multi-threaded process.
        gpus_per_worker: GPUs reserved per worker (e.g. 1, or 0.5 for two workers per GPU);
            0: none, and ``device="auto"`` is then the workers' CPUs.
        mini_batch_size: images per forward pass, as for ``semanticseg``.
        batch_size: files per Ray batch (the unit handed to a worker); default
            ``mini_batch_size``.
        name_prefix, device, tta, class_set, input_size, roi, on_error, include_subfolders:
            as for :func:`~pixelseg.inference.semanticseg` (``roi``: one region for all
            images or a list with one per image, in input order).
        overwrite: recompute and replace every output.
        resume: when ``overwrite`` is False, keep outputs that exist and label only the
            other inputs (default); False: existing outputs are an error, as for
            ``semanticseg``.
        progress: a progress bar of the labelled files.

    Returns:
        A ``PixelLabelDatastore`` over the outputs in input order (those kept by ``resume``
        included, those of files skipped by ``on_error="skip"`` left out), with the class set
        ``semanticseg`` gives it.

    Raises:
        MissingExtraError: ray (or ray's data packages) is not installed; one sentence naming
            ``pip install "pixelseg[ray]"``.
        ConfigurationError: a bad option, ``write_location`` is a file, two inputs with the
            same output name, or an image whose channels are not the network's.
        DataError: an unreadable image (``on_error="raise"``), none readable, a path that
            names no image, or a network file that is not a pixelseg checkpoint.
        FileExistsError: outputs exist with ``resume`` and ``overwrite`` False.
    """
    ray = require("ray", "ray", FEATURE)
    require("ray.data", "ray", FEATURE)
    from pixelseg.inference.segment import _check_options, _output_paths, _written_class_set

    _check_options(mini_batch_size, on_error, name_prefix, False, False, write_location)
    _check_counts(num_workers=num_workers, threads_per_worker=threads_per_worker, batch_size=batch_size)
    if gpus_per_worker < 0:
        raise ConfigurationError(f"gpus_per_worker must be >= 0, got {gpus_per_worker!r}")
    trained, payload = _network_payload(net)
    class_set = _class_set(trained, class_set)
    datastore = _datastore(images, include_subfolders, trained.in_channels)
    files = [os.path.abspath(f) for f in datastore.files]
    paths = _output_paths(files, os.path.abspath(write_location), name_prefix, overwrite or resume)
    from pixelseg.data.regions import per_item_regions

    regions = per_item_regions(roi, len(files), "roi")
    todo = [i for i, p in enumerate(paths) if overwrite or not p.exists()]
    if len(todo) < len(files):
        _log.info("semanticseg (ray): %d of %d output(s) exist already in %s; labelling the other %d",
                  len(files) - len(todo), len(files), write_location, len(todo))
    kept = set(range(len(files))) - set(todo)
    if device == "auto" and not gpus_per_worker:
        device = "cpu"  # a worker that reserved no GPU must not take one
    written, skipped = _run_on_ray(ray, files, todo, payload, threads_per_worker, gpus_per_worker, num_workers,
                                   ray_address, batch_size or mini_batch_size, on_error, progress,
                                   dict(mini_batch_size=mini_batch_size, write_location=os.path.abspath(write_location),
                                        name_prefix=name_prefix, device=device, tta=tta, class_set=class_set,
                                        input_size=input_size, overwrite=overwrite, roi=regions))
    if skipped:
        warnings.warn(f"semanticseg skipped {len(todo) - len(written)} of {len(files)} image(s) it could not read: "
                      + "; ".join(skipped[:20]) + (" ..." if len(skipped) > 20 else ""), UserWarning, stacklevel=2)
    done = sorted(kept | written)
    if not done:
        raise DataError(f"none of the {len(files)} image(s) could be read; nothing was written")
    from pixelseg.data import PixelLabelDatastore

    return PixelLabelDatastore([paths[i] for i in done], _written_class_set(class_set, roi is not None))


# ---------------------------------------------------------------------------- the driver
def _check_counts(**values) -> None:
    for name, value in values.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")


def _network_payload(net) -> tuple[Any, bytes]:
    """(TrainedNetwork, the bytes of its checkpoint file) of ``net``: a path is loaded (and
    checked); the network is saved to a temporary file (without a run checkpoint's optimizer
    state), whose bytes the workers rebuild it from."""
    from pixelseg.checkpoint import TrainedNetwork, check_finite_network, load_network

    if isinstance(net, (str, os.PathLike)):
        trained = load_network(net)
    else:
        trained = net if isinstance(net, TrainedNetwork) else TrainedNetwork(network=net)
        check_finite_network(trained.network, "the network")
    with tempfile.TemporaryDirectory(prefix="pixelseg-ray-") as folder:
        return trained, trained.save(Path(folder) / "network.pt").read_bytes()


def _class_set(trained, class_set):
    from pixelseg.inference.predictor import default_class_set

    return default_class_set(trained.num_classes, class_set if class_set is not None else trained.class_set)


def _datastore(images, include_subfolders: bool, channels: int):
    from pixelseg.inference.sources import image_datastore, is_datastore, is_path_like

    if not (is_path_like(images) or is_datastore(images)):
        raise ConfigurationError("the ray engine labels image files: give an ImageDatastore, a folder, a glob "
                                 f"pattern or a list of files, not {type(images).__name__}")
    return image_datastore(images, include_subfolders=include_subfolders, channels=channels)


def _run_on_ray(ray, files, todo, payload, threads, gpus, num_workers, address, batch_size, on_error, progress,
                options) -> tuple[set[int], list[str]]:
    """Label the files ``todo`` (indices into ``files``) on Ray; (indices written, messages
    of the files skipped). Starts Ray when this process has no Ray instance, and shuts it
    down afterwards in that case only.

    Raises:
        DataError, ConfigurationError, FileExistsError: a worker's, with its message
            (``on_error="raise"``; unreadable files are skipped with ``"skip"``).
    """
    if not todo:
        return set(), []
    from tqdm.auto import tqdm

    written: set[int] = set()
    skipped: list[str] = []
    with ray_session(ray, address, num_workers * threads if num_workers else None):
        context = ray.data.DataContext.get_current()
        bars = context.enable_progress_bars, context.print_on_execution_start
        context.enable_progress_bars = context.print_on_execution_start = False
        bar = tqdm(total=len(todo), disable=not progress, desc="semanticseg (ray)", unit="img")
        try:
            _label_on_ray(ray, files, todo, payload, threads, gpus, num_workers, batch_size, on_error, options,
                          written, skipped, bar)
        finally:
            bar.close()
            context.enable_progress_bars, context.print_on_execution_start = bars
    return written, skipped


def _label_on_ray(ray, files, todo, payload, threads, gpus, num_workers, batch_size, on_error, options, written,
                  skipped, bar) -> None:
    """The Ray Data pipeline of :func:`_run_on_ray`: fills ``written`` and ``skipped``."""
    workers = num_workers or _default_workers(ray, threads, gpus)
    rows = [{"index": i, "file": files[i]} for i in todo]
    blocks = -(-len(rows) // batch_size)  # one batch per block: the unit a worker takes
    dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
        SegmenterActor, batch_size=batch_size, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=min(workers, blocks)), num_cpus=threads, num_gpus=gpus or None,
        fn_constructor_kwargs={"checkpoint": payload, "threads": threads, "on_error": on_error,
                               "options": options})
    for row in dataset.iter_rows():
        if row["error"]:
            if on_error == "raise" or row["kind"] != "DataError":  # "skip" skips unreadable files only
                raise _REPORTED.get(row["kind"], DataError)(row["error"])
            if row["error"] not in skipped:
                skipped.append(row["error"])
        else:
            written.add(int(row["index"]))
        bar.update(1)


@contextlib.contextmanager
def ray_session(ray, address: str | None, num_cpus: int | None = None) -> Iterator[None]:
    """Use this process's Ray instance, or start one (``ray.init(address=address)``; a
    ``"local"`` one with ``num_cpus`` CPUs when given) and shut it down on exit."""
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                 **({"num_cpus": num_cpus} if address == "local" and num_cpus else {}))
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _default_workers(ray, threads: int, gpus: float) -> int:
    resources = ray.cluster_resources()
    if gpus:
        return max(1, int(resources.get("GPU", 0) // gpus))
    return max(1, int(resources.get("CPU", 1) // threads))


# ---------------------------------------------------------------------------- the workers
def network_from_payload(checkpoint: bytes, threads: int):
    """On a worker: the ``TrainedNetwork`` of the checkpoint bytes of :func:`_network_payload`,
    with ``threads`` torch threads (``torch.set_num_threads``) for this process."""
    import torch

    from pixelseg.checkpoint import load_network

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="pixelseg-ray-") as folder:
        path = Path(folder) / "network.pt"
        path.write_bytes(checkpoint)
        net = load_network(path)
    net.checkpoint = None  # the temporary file is gone
    return net


class SegmenterActor:
    """One Ray worker: rebuilds the network once, then labels and writes batches of files.

    Args:
        checkpoint: the bytes of a saved network (``TrainedNetwork.save``).
        threads: torch threads of this worker (``torch.set_num_threads``).
        on_error: "raise" or "skip", as for ``semanticseg``.
        options: keyword arguments of :func:`~pixelseg.inference.semanticseg` for every batch
            (``write_location``, ``name_prefix``, ``class_set``...); ``roi``: one region for
            all files or a list with one per file of the whole run (indexed by ``index``).

    Called with a batch ``{"index": int64 (B,), "file": str (B,)}``, it returns
    ``{"index", "error": str (B,) ("" for a written file), "kind": str (B,) (the error's
    class name)}``: errors are reported, not raised, so that the driver raises them as the
    single-process path would (Ray would wrap them in its own exception).
    """

    def __init__(self, checkpoint: bytes, threads: int, on_error: str, options: dict[str, Any]):
        self.net = network_from_payload(checkpoint, threads)
        self.on_error = on_error
        self.options = dict(options)
        self.regions = self.options.pop("roi")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from pixelseg.inference.segment import semanticseg

        indices = [int(i) for i in batch["index"]]
        files = [str(f) for f in batch["file"]]
        roi = [self.regions[i] for i in indices] if isinstance(self.regions, list) else self.regions
        errors, kind = [""] * len(files), [""] * len(files)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                pxds = semanticseg(files, self.net, on_error=self.on_error, num_workers=0, progress=False, roi=roi,
                                   **self.options)
                done = {Path(p).name for p in pxds.files}
            except (DataError, ConfigurationError, FileExistsError) as exc:
                if self.on_error == "raise" or not isinstance(exc, DataError):
                    return _status(indices, [str(exc)] * len(files), [type(exc).__name__] * len(files))
                done = set()  # none of the batch could be read: the warning below lists them
        message = "; ".join(str(w.message).partition(": ")[2] for w in caught if "skipped" in str(w.message))
        prefix = self.options["name_prefix"]
        for j, f in enumerate(files):
            if f"{prefix}{Path(f).stem}.png" not in done:
                errors[j], kind[j] = message or f"{f} could not be read", "DataError"
        return _status(indices, errors, kind)


def _status(indices, errors, kinds) -> dict[str, np.ndarray]:
    return {"index": np.asarray(indices, dtype=np.int64), "error": np.asarray(errors, dtype=object),
            "kind": np.asarray(kinds, dtype=object)}
