"""``semanticseg``: label images, batches, datastores and folders with a trained network.

Answers MATLAB's ``semanticseg`` (``[C, score, allScores] = semanticseg(I, net)`` and
``pxds = semanticseg(imds, net, 'WriteLocation', dir)``).
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference.batching import as_hwc, finish_many, finish_single, label_arrays, run_batches
from pixelseg.inference.predictor import Predictor, default_class_set
from pixelseg.inference.roi import regions_of_interest
from pixelseg.inference.sources import (
    describe_read_error,
    image_datastore,
    is_datastore,
    is_path_like,
    is_video_path,
    sample_loader,
)
from pixelseg.utils.atomic import check_output_paths


def semanticseg(
    images,
    net,
    mini_batch_size: int = 8,
    return_scores: bool = False,
    all_scores: bool = False,
    write_location=None,
    name_prefix: str = "pred_",
    device="auto",
    tta=False,
    class_set=None,
    *,
    overwrite: bool = False,
    on_error: str = "raise",
    num_workers: int | None = None,
    progress: bool = True,
    include_subfolders: bool = False,
    input_size="auto",
    roi=None,
    engine: str = "local",
    ray_address: str | None = None,
):
    """Semantic segmentation of images with a trained network (MATLAB ``semanticseg``).

    Args:
        images: what to label:

            - one image: numpy H x W x C (uint8, uint16, or float in [0, 1]; C the
              network's input channels, H x W for one channel), or a torch tensor
              C x H x W float in [0, 1]; or the path of one image file;
            - a batch: numpy N x H x W x C, torch N x C x H x W, or a list of images
              (sizes may differ);
            - many files: an ``ImageDatastore``, a folder, a glob pattern
              (``"scenes/**/*.png"``), or a list of paths;
            - a video file (.mp4, .avi, .mov, .mkv, .webm; the ``video`` extra): its
              frames, streamed by :func:`~pixelseg.inference.video.segment_video`.
        net: a ``TrainedNetwork`` or a ``SegmentationNetwork`` (any ``nn.Module`` mapping
            N x C x H x W float32 in [0, 1] to logits N x K x H x W). It is moved to
            ``device`` and left there; its train/eval mode is restored afterwards.
        mini_batch_size: images per forward pass (consecutive images of one size).
        return_scores: also return the winning class's softmax score per pixel.
        all_scores: also return the softmax scores of every class.
        write_location: for many files, a folder to write the label maps to as palette
            PNGs named ``name_prefix + <input stem> + ".png"``; created when missing.
        name_prefix: prefix of the written file names.
        device: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:1", ...
        tta: test-time augmentation: False; True (average the softmax scores of the image
            and its horizontal flip); or a sequence of scales, e.g. ``(0.75, 1.0, 1.25)``
            (image and flip at each scale, logits resized back, softmax scores averaged).
        class_set: the ``ClassSet`` whose palette the PNGs carry and which the returned
            datastore uses; default the TrainedNetwork's, else names "class0".. with
            :func:`~pixelseg.inference.default_colormap` colours.
        overwrite: replace existing output files (default: refuse before any work).
        on_error: an unreadable file among many: "raise" (DataError naming it, the
            default) or "skip" (a warning lists the skipped files; the rest are labelled).
        num_workers: DataLoader worker processes reading files ahead of the network;
            None picks min(4, CPUs - 1) (0 for one or two files).
        progress: show a tqdm progress bar for many files.
        include_subfolders: for a folder, also read its subfolders.
        input_size: ``"auto"`` (default): a TrainedNetwork's ``inference_size``, the size its
            train job resized images to (``load_network("camvid-fast")`` runs at 216 x 288),
            else each image at its own size; None: each image at its own size; or (h, w):
            images are resized to h x w for the network (bilinear, antialiased when
            shrinking) and the logits resized back (bilinear) before the softmax, so label
            maps and scores keep each image's H x W. TTA scales multiply ``input_size``.
        roi: region of interest (MATLAB's ``roi``): pixels outside it are void (255) in the
            label maps and the written PNGs, and their scores are 0; the network still
            sees the whole image. A rectangle ``(x, y, width, height)`` in **0-based** pixel
            coordinates (MATLAB's are 1-based: subtract 1 from x and y), an H x W bool or
            0/1 array (nonzero inside), or a mask file; for many images one for all or a
            list with one per image, in input order (None: the whole image). See
            :mod:`pixelseg.inference.roi`.
        engine: "local" (this process) or "ray": many files with ``write_location`` labelled
            by ``num_workers`` Ray worker processes (default one per CPU of the cluster),
            outputs that exist already kept rather than refused (resuming an interrupted
            run); ``net`` may then also be a saved network's path; the ``ray`` extra. See :func:`pixelseg.inference.distributed.semanticseg_ray`.
        ray_address: with ``engine="ray"``, the cluster: None (this process's Ray, else the
            latest started here, else a new one), "local", "auto" or "HOST:PORT".

    Returns:
        - one image: ``labels`` H x W uint8 (class indices 0..K-1, 255 outside ``roi``); with
          ``return_scores`` also ``scores`` H x W float32; with ``all_scores`` also
          ``all_scores`` K x H x W float32, as a tuple in this order
          (``labels, scores, all_scores``; the ones not asked for are left out);
        - a batch array: the same with a leading N; a list: lists;
        - many files with ``write_location``: a ``PixelLabelDatastore`` over the written
          PNGs, in input order (skipped files left out), reading back exactly the class
          indices written (its class set has the names and colours of ``class_set`` and
          label IDs 0..K-1, void 255, whatever raw IDs the training labels used); without: lists as for a list,
          one entry per file in input order, None for a file skipped by ``on_error="skip"``
          (so that entry i is always file i);
        - a video: a generator yielding per frame what one image returns (decoding starts at
          the first ``next()``; memory stays that of one mini-batch). ``write_location``,
          ``on_error``, ``num_workers`` and ``class_set`` do not apply:
          :func:`~pixelseg.inference.video_writer.write_video_labels` writes a video's results.

    Raises:
        ConfigurationError: an image's channel count is not the network's; a bad option;
            ``write_location`` is a file; two inputs would write the same output name.
        DataError: an image that cannot be read (``on_error="raise"``), or holds values
            out of range; a path that names no image.
        FileExistsError: output files exist and ``overwrite`` is False.

    Examples:
        A tiny untrained network, so only the shapes and types are meaningful:

        >>> import numpy as np
        >>> from pixelseg import create_network, semanticseg
        >>> net = create_network("unet", num_classes=3, encoder_depth=2, num_first_encoder_filters=4)
        >>> image = np.zeros((20, 30, 3), np.uint8)
        >>> labels = semanticseg(image, net, device="cpu")
        >>> labels.shape, labels.dtype, bool(labels.max() < 3)
        ((20, 30), dtype('uint8'), True)
        >>> labels, scores = semanticseg(image, net, device="cpu", return_scores=True)
        >>> scores.shape, scores.dtype
        ((20, 30), dtype('float32'))
    """
    _check_options(mini_batch_size, on_error, name_prefix, return_scores, all_scores, write_location)
    if is_video_path(images):
        if engine != "local":
            raise ConfigurationError(f"engine={engine!r} does not apply to a video ({images}): its frames are "
                                     "streamed through the network in this process")
        return _video(images, net, mini_batch_size, return_scores, all_scores, write_location, device, tta,
                      input_size, roi, progress)
    if engine == "ray":
        from pixelseg.inference.distributed import semanticseg_ray

        if write_location is None:
            raise ConfigurationError('engine="ray" writes its label maps: give write_location')
        return semanticseg_ray(images, net, write_location, ray_address=ray_address, num_workers=num_workers,
                               mini_batch_size=mini_batch_size, name_prefix=name_prefix, device=device, tta=tta,
                               class_set=class_set, input_size=input_size, roi=roi, overwrite=overwrite,
                               on_error=on_error, include_subfolders=include_subfolders, progress=progress)
    if engine != "local" or ray_address is not None:
        raise ConfigurationError(f"engine must be 'local' or 'ray' (ray_address only with 'ray'), got {engine!r}")
    predictor = Predictor(net, device=device, tta=tta, input_size=input_size)
    need_scores = bool(return_scores or all_scores)
    with predictor:
        if is_path_like(images) and _is_one_file(images) and write_location is None:
            image = _read_one(images, predictor.in_channels or 3)
            masks = regions_of_interest(roi, 1, [str(images)])
            return finish_single(label_arrays(predictor, [image], mini_batch_size, need_scores, masks)[0],
                                  return_scores, all_scores)
        if is_path_like(images) or is_datastore(images):
            return _label_files(
                predictor, images, mini_batch_size, need_scores, return_scores, all_scores,
                write_location, name_prefix, class_set, overwrite, on_error, num_workers,
                progress, include_subfolders, roi,
            )
        if write_location is not None:
            raise ConfigurationError(
                "write_location applies to an ImageDatastore, a folder, a glob or a list of "
                "files; for arrays, save the returned label maps yourself"
            )
        return _label_in_memory(predictor, images, mini_batch_size, need_scores, return_scores, all_scores, roi)


# ---------------------------------------------------------------------------- options
def _check_options(mini_batch_size, on_error, name_prefix, return_scores, all_scores, write_location):
    if not isinstance(mini_batch_size, int) or isinstance(mini_batch_size, bool) or mini_batch_size < 1:
        raise ConfigurationError(f"mini_batch_size must be a positive integer, got {mini_batch_size!r}")
    if on_error not in ("raise", "skip"):
        raise ConfigurationError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if not isinstance(name_prefix, str) or "/" in name_prefix or os.sep in name_prefix:
        raise ConfigurationError(f"name_prefix must be a file-name prefix without folders, got {name_prefix!r}")
    if write_location is not None and (return_scores or all_scores):
        raise ConfigurationError(
            "return_scores/all_scores cannot be combined with write_location (only label maps are written)"
        )


def _is_one_file(images) -> bool:
    return isinstance(images, (str, os.PathLike)) and Path(images).is_file()


def _read_one(path, channels: int) -> np.ndarray:
    from pixelseg.data import ImageDatastore

    try:
        return ImageDatastore([Path(path)], channels=channels).read(0)
    except Exception as exc:
        raise DataError(describe_read_error(path, exc)) from exc


def _video(path, net, mini_batch_size, return_scores, all_scores, write_location, device, tta, input_size, roi,
           progress):
    from pixelseg.inference.video import segment_video

    if write_location is not None:
        raise ConfigurationError(f"write_location does not apply to a video ({path}); write_video_labels(video, net, "
                                 "out_path, label_maps_dir=...) writes its labels as a video and PNGs")
    return segment_video(path, net, mini_batch_size, return_scores, all_scores, device, tta, input_size=input_size,
                         roi=roi, progress=progress)


def _label_in_memory(predictor, images, mini_batch_size, need_scores, return_scores, all_scores, roi=None):
    if isinstance(images, torch.Tensor):
        if images.ndim not in (3, 4):
            raise DataError(f"a tensor input must be C x H x W or N x C x H x W, got shape {tuple(images.shape)}")
        single = images.ndim == 3
        x = images[None] if single else images
        if x.dtype == torch.uint8:
            x = x.float() / 255.0
        arrays = [as_hwc(a, source=f"image {i}") for i, a in enumerate(x.permute(0, 2, 3, 1).cpu().numpy())]
        results = label_arrays(predictor, arrays, mini_batch_size, need_scores, regions_of_interest(roi, len(arrays)))
        if single:
            return finish_single(results[0], return_scores, all_scores)
        return finish_many(results, return_scores, all_scores, stack=True)
    if isinstance(images, np.ndarray):
        if images.ndim in (2, 3):
            results = label_arrays(predictor, [as_hwc(images)], mini_batch_size, need_scores,
                                    regions_of_interest(roi, 1))
            return finish_single(results[0], return_scores, all_scores)
        if images.ndim == 4:
            arrays = [as_hwc(a) for a in images]
            results = label_arrays(predictor, arrays, mini_batch_size, need_scores, regions_of_interest(roi, len(arrays)))
            return finish_many(results, return_scores, all_scores, stack=True)
        raise DataError(f"an image array must be H x W, H x W x C or N x H x W x C, got shape {images.shape}")
    if isinstance(images, (list, tuple)):
        arrays = [as_hwc(a, source=f"image {i}") for i, a in enumerate(images)]
        results = label_arrays(predictor, arrays, mini_batch_size, need_scores, regions_of_interest(roi, len(arrays)))
        return finish_many(results, return_scores, all_scores, stack=False)
    raise ConfigurationError(
        "images must be an image array, a batch, a list of images, an ImageDatastore, a folder, "
        f"a glob pattern or a list of paths; got {type(images).__name__}"
    )


# ---------------------------------------------------------------------------- many files
def _output_paths(files, write_location, name_prefix, overwrite) -> list[Path]:
    folder = Path(write_location)
    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"write_location {folder} is a file, not a folder")
    paths = [folder / f"{name_prefix}{Path(f).stem}.png" for f in files]
    check_output_paths(files, paths, overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    return paths


def _label_files(predictor, images, mini_batch_size, need_scores, return_scores, all_scores,
                 write_location, name_prefix, class_set, overwrite, on_error, num_workers,
                 progress, include_subfolders, roi=None):
    from tqdm.auto import tqdm

    datastore = image_datastore(images, include_subfolders=include_subfolders,
                                channels=predictor.in_channels or 3)
    files = list(datastore.files)
    masks = regions_of_interest(roi, len(files), [str(f) for f in files])
    writing = write_location is not None
    if writing:
        from pixelseg.data import PixelLabelDatastore
        from pixelseg.utils.atomic import save_png

        class_set = default_class_set(
            predictor.probe_num_classes(),
            class_set if class_set is not None else predictor.class_set,
        )
        paths = _output_paths(files, write_location, name_prefix, overwrite)
        palette = class_set.palette()
    skipped: list[str] = []
    written: list[int] = []
    results: dict[int, tuple] = {}
    bar = tqdm(total=len(files), disable=not progress, desc="semanticseg", unit="img")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2) if writing else None
    pending: collections.deque = collections.deque()

    def readable():
        for i, image, error in sample_loader(datastore, num_workers, prefetch=mini_batch_size):
            if error is not None:
                if on_error == "raise":
                    raise DataError(error)
                skipped.append(error)
                bar.update(1)
                continue
            try:
                image = as_hwc(image, source=str(files[i]))
                predictor.check_channels(image.shape[2], source=str(files[i]))
            except (DataError, ConfigurationError) as exc:
                if on_error == "raise":
                    raise
                skipped.append(str(exc))
                bar.update(1)
                continue
            yield i, image

    def on_result(i, labels, probs):
        if writing:
            pending.append(pool.submit(save_png, labels, paths[i], palette, overwrite))
            written.append(i)
            while len(pending) > 4 * mini_batch_size:
                pending.popleft().result()
        else:
            results[i] = (labels, probs)
        bar.update(1)

    try:
        run_batches(predictor, readable(), mini_batch_size, need_scores, on_result, masks)
        for future in pending:
            future.result()
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if skipped:
        warnings.warn(
            f"semanticseg skipped {len(skipped)} of {len(files)} image(s) it could not read: "
            + "; ".join(skipped[:20]) + (" ..." if len(skipped) > 20 else ""),
            UserWarning,
            stacklevel=3,
        )
    if not writing:
        return finish_many([results.get(i) for i in range(len(files))], return_scores, all_scores, stack=False)
    if not written:
        raise DataError(f"none of the {len(files)} image(s) could be read; nothing was written")
    return PixelLabelDatastore([paths[i] for i in sorted(written)], _written_class_set(class_set, masks is not None))


def _written_class_set(class_set, void: bool = False):
    """The class set that reads the written PNGs back: they hold class indices 0..K-1 and
    void 255, whatever raw label IDs ``class_set`` (the training data's) declares;
    ``void``: 255 must read as void (written outside a region of interest)."""
    from pixelseg.data import ClassSet

    indices = [[i] for i in range(class_set.num_classes)]
    voids = set(class_set.void_ids)
    if class_set.id_type == "grey" and class_set.label_ids == indices and (voids == {VOID} or not void and not voids):
        return class_set  # already reads the PNGs as written
    return ClassSet(class_set.names, list(range(class_set.num_classes)), class_set.colors, [VOID])

