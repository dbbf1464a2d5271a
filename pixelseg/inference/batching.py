"""The batching core of ``semanticseg``: arrays checked, stacked in mini-batches of
consecutive same-size images, run through a :class:`~pixelseg.inference.predictor.Predictor`,
and the results unpacked as MATLAB's ``[C, score, allScores]``."""

from __future__ import annotations

import numpy as np
import torch

from pixelseg.errors import DataError
from pixelseg.export.runtime import check_image_pixels
from pixelseg.inference.predictor import Predictor

__all__ = ["prepare", "as_hwc", "run_batches", "label_arrays", "outputs_of", "finish_single", "finish_many"]


def prepare(predictor: Predictor, batch: list[np.ndarray]) -> torch.Tensor:
    stacked = np.stack(batch)
    if np.issubdtype(stacked.dtype, np.floating):
        return predictor.float_input(torch.from_numpy(stacked).permute(0, 3, 1, 2))
    return predictor.to_input(stacked)


def as_hwc(image, source: str = "the image") -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise DataError(f"{source} must be H x W or H x W x C, got shape {arr.shape}")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating) or arr.dtype in (np.uint8, np.uint16)):
        raise DataError(f"{source} must be uint8, uint16 or float in [0, 1], got dtype {arr.dtype}")
    check_image_pixels(arr, source, DataError)
    return arr


def run_batches(predictor: Predictor, items, mini_batch_size: int, need_scores: bool, on_result, masks=None) -> None:
    """Run ``items`` (iterable of (index, H x W x C array)) through the network in mini-batches
    of consecutive same-size images; call ``on_result(index, labels, probs_or_None)`` (numpy),
    with the outside of image index's region void when ``masks`` (RegionsOfInterest) is given."""
    keys: list = []
    batch: list[np.ndarray] = []

    def flush():
        labels, probs = predictor.predict(prepare(predictor, batch), need_scores)
        labels = labels.cpu().numpy()
        probs = probs.cpu().numpy() if probs is not None else None
        for j, key in enumerate(keys):
            result = labels[j], None if probs is None else probs[j]
            on_result(key, *(result if masks is None else masks.apply(key, *result)))
        keys.clear()
        batch.clear()

    for key, image in items:
        if batch and (image.shape != batch[0].shape or image.dtype != batch[0].dtype):
            flush()
        predictor.check_channels(image.shape[2])
        keys.append(key)
        batch.append(image)
        if len(batch) == mini_batch_size:
            flush()
    if batch:
        flush()


def label_arrays(predictor, images, mini_batch_size, need_scores, masks=None):
    """list of H x W x C arrays -> list of (labels, probs or None)."""
    results: list = [None] * len(images)

    def store(i, labels, probs):
        results[i] = (labels, probs)

    run_batches(predictor, enumerate(images), mini_batch_size, need_scores, store, masks)
    return results


def outputs_of(result, return_scores, all_scores):
    if result is None:  # a skipped file
        return [None] * (1 + bool(return_scores) + bool(all_scores))
    labels, probs = result
    out = [labels]
    if return_scores:
        out.append(probs.max(axis=0))
    if all_scores:
        out.append(probs)
    return out


def finish_single(result, return_scores, all_scores):
    out = outputs_of(result, return_scores, all_scores)
    return out[0] if len(out) == 1 else tuple(out)


def finish_many(results, return_scores, all_scores, stack: bool):
    if not results:  # no images: an empty list per output, so that unpacking still works
        outputs = 1 + bool(return_scores) + bool(all_scores)
        return [] if outputs == 1 else tuple([] for _ in range(outputs))
    columns = list(zip(*(outputs_of(r, return_scores, all_scores) for r in results)))
    columns = [np.stack(c) if stack else list(c) for c in columns]
    return columns[0] if len(columns) == 1 else tuple(columns)
