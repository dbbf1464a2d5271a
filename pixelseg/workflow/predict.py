"""The predict job (``pixelseg predict``): label image files with a checkpoint.

One palette PNG of class indices per input (``<prefix><stem>.png``; 255, void, outside the
region of interest: each item's region mask of a ``data:`` block, or ``roi``), or with ``tile_size``
each input labelled tile by tile (TIFF inputs read lazily, written as tiled TIFF
``<prefix><stem>.tif``; with ``ray``, its tile rows spread over Ray workers). ``overlay=True`` also writes ``out/overlays/<stem>.png`` (image and
class colours blended, the image name as a title above and a legend of the classes that
appear below). Every output path is planned and checked before anything is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.data import ImageDatastore, read_label_raw
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import add_overlay_legend, label_overlay, semanticseg, semanticseg_tiled
from pixelseg.inference.predictor import default_class_set
from pixelseg.inference.sources import image_datastore
from pixelseg.utils.atomic import check_output_paths, save_png
from pixelseg.utils.sizes import parse_size
from pixelseg.workflow._common import open_checkpoint, output_folder
from pixelseg.workflow.predict_video import is_video_job, run_predict_video

__all__ = ["run_predict", "tile_batch_size", "parse_roi", "MAX_OVERLAY_PIXELS"]

_log = logging.getLogger(__name__)

_TIFF = (".tif", ".tiff")
#: Overlays of tiled outputs are written only up to this many pixels (they are made in memory).
MAX_OVERLAY_PIXELS = 64_000_000


def tile_batch_size(tile_size: int, pixels: int = 4 * 512 * 512) -> int:
    """Tiles per forward pass so that a batch holds about ``pixels`` (4 tiles of 512, 1 of
    1024): the network's activations, not the image, bound the memory of tiled inference,
    and they grow with the batch's pixels (8 tiles of 1024 peaked at 3.5 GB)."""
    return max(1, pixels // (tile_size * tile_size))


_RECTANGLE = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$")


def parse_roi(roi: Any) -> Any:
    """``--roi``: ``"x,y,w,h"`` -> the rectangle ``(x, y, w, h)`` (0-based pixels); another
    string: a mask file (which must exist); anything else (None, an array, a tuple) as it is.

    Raises:
        FileNotFoundError: a string that is neither a rectangle nor an existing file.
    """
    if not isinstance(roi, (str, Path)):
        return roi
    match = _RECTANGLE.match(str(roi))
    if match:
        return tuple(int(v) for v in match.groups())
    if not Path(roi).is_file():
        raise FileNotFoundError(f"--roi {roi}: no such mask file (or give a rectangle x,y,width,height in 0-based "
                                "pixels, e.g. 10,20,200,100)")
    return Path(roi)


def _data_groups(data, split: str | None, out: Path) -> list[tuple[Path, list[Path], list[Path | None] | None]]:
    """The images of a ``data:`` block's split, grouped by the folder part of their pair
    names (``site_a/frame_0`` -> ``out/site_a``), so that equal file names in different
    groups do not clash; with each image's region mask (None without regions)."""
    from pixelseg.data.spec import open_data
    from pixelseg.workflow._common import data_from_yaml

    class_set = None
    if isinstance(data, (str, Path)):
        data, class_set = data_from_yaml(data)
    pairs = open_data(data, class_set).split(split)
    regions = pairs.region_files
    groups: dict[str, tuple[list[Path], list[Path | None]]] = {}
    for i, (name, image) in enumerate(zip(pairs.names, pairs.images.files, strict=True)):
        files, masks = groups.setdefault(name.rpartition("/")[0], ([], []))
        files.append(Path(image))
        masks.append(regions[i] if regions is not None else None)
    return [(out / sub if sub else out, files, masks if regions is not None else None)
            for sub, (files, masks) in groups.items()]


def _input_files(inputs: Sequence[str | Path]) -> list[Path]:
    files: list[Path] = []
    for spec in inputs:
        files.extend(Path(f) for f in image_datastore(str(spec)).files)
    if not files:
        raise DataError(f"no image files found in {', '.join(map(str, inputs))}")
    return files


def _write_overlays(pairs, class_set, out: Path, overwrite: bool, echo: Callable[[str], None]) -> int:
    """pairs: iterable of (input image path, label map path); writes out/overlays/<subfolder
    of the label map>/<stem>.png."""
    count = 0
    for image_path, label_path in pairs:
        labels = np.asarray(read_label_raw(label_path))
        if labels.shape[0] * labels.shape[1] > MAX_OVERLAY_PIXELS:
            echo(f"overlay skipped for {image_path.name}: {labels.shape[1]} x {labels.shape[0]} is too large for one picture")
            continue
        image = ImageDatastore([image_path]).read(0)
        folder = out / "overlays" / label_path.parent.relative_to(out)
        folder.mkdir(parents=True, exist_ok=True)
        picture = add_overlay_legend(label_overlay(image, labels, colormap=class_set), labels, class_set, title=image_path.name)
        save_png(picture, folder / f"{image_path.stem}.png", overwrite=overwrite)
        count += 1
    return count


def _engine(ray: str | None, workers: int | None, overlay: bool) -> dict[str, Any]:
    """The ``semanticseg`` arguments of ``--ray ADDRESS`` and ``--workers N`` (none without ``--ray``).

    Raises:
        ConfigurationError: ``--workers`` without ``--ray``, or ``--ray`` with ``--overlay``.
    """
    if ray is None:
        if workers is not None:
            raise ConfigurationError("--workers sets the Ray worker processes: give --ray too (--ray local for this machine)")
        return {}
    if overlay:
        raise ConfigurationError("--ray cannot be combined with --overlay: label the images on Ray, then run "
                                 "without --ray for the overlays")
    return {"engine": "ray", "ray_address": ray, "num_workers": workers}


def _label_file(out: str | Path, tile_size: int | None, data) -> Path | None:
    """``--out`` as the one label file of a tiled job (``labels.tif``, ``labels.png``), or None
    when it is the output folder."""
    out = Path(out)
    if tile_size is None or data is not None or out.is_dir() or out.suffix.lower() not in (*_TIFF, ".png"):
        return None
    return out


def _tiled_plan(files: list[Path], folder: Path, name_prefix: str, cog: bool, label_file: Path | None,
                resume: bool, overwrite: bool, echo: Callable[[str], None]) -> tuple[list[Path], list[int]]:
    """(the label file of each input, the indices of those to compute): with ``resume``
    (``--ray``) the outputs that exist are kept, unless ``overwrite``; the rest is checked.

    Raises:
        ConfigurationError: ``label_file`` for more than one input; outputs that clash.
        FileExistsError: an output exists (not ``resume``) and ``overwrite`` is False.
    """
    if label_file is not None and len(files) != 1:
        raise ConfigurationError(f"--out {label_file} names one label file, but {len(files)} images were given; "
                                 "give one image, or an output folder as --out")
    targets = [label_file] if label_file is not None else [
        folder / f"{name_prefix}{f.stem}{'.tif' if cog or f.suffix.lower() in _TIFF else '.png'}" for f in files]
    todo = [k for k, t in enumerate(targets) if overwrite or not resume or not t.exists()]
    if len(todo) < len(targets):
        echo(f"kept {len(targets) - len(todo)} existing label file(s) in {folder} (--overwrite recomputes them)")
    check_output_paths([files[k] for k in todo], [targets[k] for k in todo], overwrite)
    return targets, todo


def run_predict(checkpoint: str | Path, inputs: Sequence[str | Path], out: str | Path, overlay: bool = False,
                tile_size: int | None = None, overlap: int | None = None, mini_batch_size: int | None = None,
                device: str = "auto", tta: bool | tuple[float, ...] = False,
                input_size: tuple[int, int] | str | None = None, overwrite: bool = False,
                skip_unreadable: bool = False, name_prefix: str = "pred_",
                echo: Callable[[str], None] = _log.info, *, data=None, split: str | None = None,
                roi: Any = None, ray: str | None = None, workers: int | None = None, cog: bool = False,
                bands: Any = None, label_maps: str | Path | None = None) -> list[Path]:
    """Label ``inputs`` (image files, folders or glob patterns) with the network in ``checkpoint``.

    Args:
        checkpoint: a file of ``TrainedNetwork.save`` or a run checkpoint.
        inputs: image files, folders or glob patterns (empty with ``data``).
        data, split: instead of ``inputs``, the images of one split of a ``data:`` block
            (a YAML file such as ``train.yaml``, or a DataSpec / mapping; split as for
            ``OpenedData.split``: default test, else validation, else all); outputs go into
            the subfolders of the pair names (``out/site_a/pred_frame_0.png``). Each image's
            region mask (``data.regions``) is its ``roi``: the outputs are void (255) outside.
        roi: with ``inputs``, the region of interest of every image: a mask file, a
            rectangle ``(x, y, width, height)`` or the text ``"x,y,width,height"`` (0-based
            pixels; :func:`parse_roi`), or anything ``semanticseg``'s ``roi`` takes. Pixels
            outside are written as 255 (void). Not with ``tile_size``.
        out: output folder (created); with ``tile_size`` and one input, a ``.tif``/``.tiff``/
            ``.png`` path that is not a folder names the label file itself.
        overlay: also write ``out/overlays/<stem>.png``.
        tile_size: label each image in tiles of at most N x N pixels (None: whole images).
        overlap: tile overlap in pixels (default tile/8).
        mini_batch_size: images per forward pass (default 8), or tiles (default
            :func:`tile_batch_size`).
        device, tta: as for :func:`pixelseg.inference.semanticseg`.
        input_size: resize images to H x W for the network (``"HxW"`` or a pair); labels keep
            each image's size. None (default): the checkpoint's ``inference_size`` (the size
            the train job resized to), else each image's own size; ``"native"``: each image's
            own size. Not with ``tile_size``.
        cog, bands: with ``tile_size``, as for :func:`pixelseg.inference.semanticseg_tiled`:
            write every output as a Cloud Optimized GeoTIFF (``.tif``); the 1-based bands read
            (``"4,3,2"``). A GeoTIFF input keeps its CRS and transform without either.
        overwrite: replace existing output files.
        skip_unreadable: report and skip images that cannot be read.
        name_prefix: prefix of the output file names.
        ray: label on a Ray cluster (:func:`pixelseg.inference.distributed.semanticseg_ray`;
            the ``ray`` extra): ``"local"`` (a new one on this machine), ``"auto"`` (the one
            ``ray start`` began here) or ``"HOST:PORT"``; outputs that exist are kept and
            their inputs skipped (run again to resume), unless ``overwrite``. With
            ``tile_size``, the tile rows of each image are spread over the workers
            (``semanticseg_tiled(..., engine="ray")``, one Ray run per image). Not with
            ``overlay``.
        workers: with ``ray``, the worker processes (default one per CPU of the cluster).
        label_maps: with a video input, also write each frame's label PNG into this folder.
        echo: receives one line per message; default: the logger (INFO).

    One video file as ``inputs`` (.mp4, .avi, .mov, .mkv, .webm) is labelled frame by frame
    into the video ``out`` (:func:`pixelseg.workflow.predict_video.run_predict_video`).

    Returns:
        The label files written (H x W uint8 class indices), in input order; for a video, ``[out]``.

    Raises:
        ConfigurationError: ``input_size`` or regions with ``tile_size``, a bad size or
            ``roi``, ``roi`` with ``data``, ``out`` is a file.
        DataError: not a pixelseg checkpoint, no image files, output paths that clash with
            each other or with the inputs.
        FileNotFoundError, FileExistsError: a missing checkpoint or input; an existing output
            without ``overwrite``.
    """
    native = isinstance(input_size, str) and input_size.strip().lower() == "native"
    input_size = None if native else parse_size(input_size, "--input-size")
    if tile_size is not None and input_size is not None:
        raise ConfigurationError("--input-size cannot be combined with --tile-size: tiles are labelled at the "
                                 "image's own resolution (resize the image first, or leave out one of them)")
    if roi is not None and data is not None:
        raise ConfigurationError("--roi applies to INPUTS; with --data each image's region comes from the data: block "
                                 "(regions: a mask file there gives one for all)")
    roi = parse_roi(roi)
    engine = _engine(ray, workers, overlay)
    if (cog or bands is not None) and tile_size is None:
        raise ConfigurationError("--cog and --bands apply to tiled inference; add --tile-size (e.g. --tile-size 512)")
    trained = open_checkpoint(checkpoint)
    if input_size is None and not native and tile_size is None and trained.inference_size is not None:
        input_size = trained.inference_size
        echo(f"resizing images to {input_size[0]}x{input_size[1]} for the network, as in training "
             "(--input-size native: each image at its own size)")
    elif tile_size is not None and trained.inference_size is not None:
        _log.warning("the network was trained on images resized to %dx%d, but tiles are labelled at the image's "
                     "own resolution: resize the image by that factor first if its scale differs",
                     *trained.inference_size)
    if (data is None) == (not inputs):
        raise ConfigurationError("give the images to label either as inputs or as a data: block (--data), not both")
    if is_video_job(inputs):
        if tile_size is not None or engine:
            raise ConfigurationError(f"{'--ray' if engine else '--tile-size'} does not apply to a video: its frames "
                                     "are labelled whole, streamed through the network in this process")
        return run_predict_video(trained, inputs[0], out, overlay, label_maps, mini_batch_size, device, tta,
                                 input_size, roi, overwrite, name_prefix, echo)
    if label_maps is not None:
        raise ConfigurationError("--label-maps applies to a video input (image inputs are written as label PNGs "
                                 "into --out)")
    label_file = _label_file(out, tile_size, data)
    out = output_folder(label_file.parent if label_file is not None else out, "--out")
    groups = _data_groups(data, split, out) if data is not None else [(out, _input_files(inputs), roi)]
    if tile_size is not None and any(regions is not None for _, _, regions in groups):
        raise ConfigurationError("regions of interest (--roi, data.regions) cannot be combined with --tile-size; "
                                 "label whole images, or set regions: false in the data: block")
    class_set = default_class_set(trained.num_classes, trained.class_set)
    overlay_paths = [out / "overlays" / folder.relative_to(out) / f"{f.stem}.png" for folder, files, _ in groups
                     for f in files]  # fmt: skip
    if overlay:  # before any labelling: a clash found after it would waste the run
        check_output_paths([f for _, files, _ in groups for f in files], overlay_paths, overwrite)
    written, pairs = [], []
    for folder, files, regions in groups:
        if tile_size is None:
            pxds = semanticseg(files, trained, mini_batch_size=mini_batch_size or 8, write_location=folder,
                               name_prefix=name_prefix, device=device, tta=tta, class_set=class_set,
                               input_size=input_size, overwrite=overwrite, roi=regions,
                               on_error="skip" if skip_unreadable else "raise", **engine)  # fmt: skip
            by_name = {f"{name_prefix}{f.stem}": f for f in files}
            written += list(pxds.files)
            pairs += [(by_name[p.stem], p) for p in pxds.files]
        else:
            targets, todo = _tiled_plan(files, folder, name_prefix, cog, label_file, bool(engine), overwrite, echo)
            for k in todo:
                semanticseg_tiled(files[k], trained, targets[k], tile_size=tile_size, overlap=overlap,
                                  mini_batch_size=mini_batch_size or tile_batch_size(tile_size), device=device,
                                  tta=tta, class_set=class_set, overwrite=overwrite, cog=cog, bands=bands, **engine)
            written += targets
            pairs += list(zip(files, targets))
    echo(f"labelled {len(written)} image(s) into {out} ({class_set.num_classes} classes)")
    if overlay:
        n = _write_overlays(pairs, class_set, out, overwrite, echo)
        echo(f"wrote {n} overlay(s) into {out / 'overlays'}")
    return written
