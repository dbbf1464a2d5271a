"""Rank images by the network's uncertainty, for "label next" (active learning).

Definition: the uncertainty of an image is the mean over its pixels of the normalised
entropy of the network's softmax scores,

    u = (1 / (H * W)) * sum over pixels of ( -sum_k p_k * ln p_k ) / ln K

with p_k the softmax score of class k at the pixel and K the number of classes the network
predicts. u lies in [0, 1]: 0 when the network gives every pixel one class with score 1, 1
when every pixel gets the uniform distribution 1/K. (Shannon entropy, as in "uncertainty
sampling", Settles 2009, *Active Learning Literature Survey*, section 3.1.)

:class:`UncertaintyRanker` computes u for every image in a background thread, one image
at a time, and keeps the values in memory keyed by the model file's modification time and
size (:meth:`Prelabeler.model_key`) and each image file's; when the model file changes
the cache is dropped and the ranking starts again.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["mean_entropy", "UncertaintyRanker", "DEFINITION"]

DEFINITION = "mean over pixels of the softmax entropy divided by ln(K): 0 = certain, 1 = uniform scores"


def mean_entropy(scores: np.ndarray) -> float:
    """Mean normalised per-pixel entropy of softmax scores ``K x H x W`` (see the module doc).

    Returns:
        A float in [0, 1]; 0.0 for a one-class network (K = 1).

    Raises:
        ValueError: ``scores`` is not 3-D or has no pixels.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 3 or scores.shape[1] * scores.shape[2] == 0:
        raise ValueError(f"scores must be K x H x W with at least one pixel, got shape {scores.shape}")
    k = scores.shape[0]
    if k < 2:
        return 0.0
    p = np.clip(scores, 1e-12, 1.0)
    entropy = -(scores * np.log(p)).sum(axis=0)
    return float(np.clip(entropy.mean() / math.log(k), 0.0, 1.0))


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class UncertaintyRanker:
    """Background computation of each image's uncertainty with a :class:`Prelabeler`.

    Args:
        prelabeler: gives ``probabilities(image, class_names)`` and ``model_key()``.
        list_images: returns the current [(image name, image path)].
        class_names: returns the project's class names (checked against the network's).
        read_image: path -> H x W x 3 uint8.
    """

    def __init__(self, prelabeler, list_images: Callable[[], list[tuple[str, Path]]],
                 class_names: Callable[[], list[str]], read_image: Callable[[Path], np.ndarray]):
        self.prelabeler = prelabeler
        self.list_images = list_images
        self.class_names = class_names
        self.read_image = read_image
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._model_key = None
        self._cache: dict[str, tuple[tuple[int, int] | None, float]] = {}  # name -> (image key, u)
        self._failed: dict[str, str] = {}  # name -> why it could not be scored
        self._error: str | None = None  # a model problem that stops the ranking
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- reading
    def snapshot(self) -> dict:
        """{"scores": {name: u}, "pending": [names], "failed": {name: why}, "error": str or None,
        "running": bool} for the images of the folder now, under the current model.

        Starts the background thread when there is work and none runs.
        """
        images = self.list_images()
        model_key = self._current_model_key()
        with self._lock:
            if model_key != self._model_key:
                self._reset(model_key)
            scores, pending = {}, []
            for name, path in images:
                cached = self._cache.get(name)
                if cached is not None and cached[0] == _file_key(path):
                    scores[name] = cached[1]
                elif name not in self._failed:
                    pending.append(name)
            running = self._thread is not None and self._thread.is_alive()
            if pending and not running and self._error is None:
                self._thread = threading.Thread(target=self._work, name="pixelseg-uncertainty", daemon=True)
                self._thread.start()
                running = True
            return {"scores": scores, "pending": pending, "failed": dict(self._failed),
                    "error": self._error, "running": running}

    def wait(self, timeout: float) -> dict:
        """:meth:`snapshot` once no image is pending (or after ``timeout`` seconds)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            state = self.snapshot()
            left = deadline - time.monotonic()
            if not state["pending"] or state["error"] or left <= 0:
                return state
            with self._done:
                self._done.wait(min(left, 0.5))

    # -------------------------------------------------------------- worker
    def _current_model_key(self):
        try:
            return self.prelabeler.model_key()
        except Exception as exc:  # the file is gone: reported, nothing ranked
            return ("error", str(exc))

    def _reset(self, model_key) -> None:
        self._model_key = model_key
        self._cache.clear()
        self._failed.clear()
        self._error = model_key[1] if model_key and model_key[0] == "error" else None

    def _work(self) -> None:
        while True:
            with self._lock:
                model_key = self._model_key
                todo = [(n, p) for n, p in self.list_images()
                        if n not in self._failed and (self._cache.get(n) or (None,))[0] != _file_key(p)]
                if not todo or self._error is not None:
                    self._done.notify_all()
                    return
            name, path = todo[0]
            image_key = _file_key(path)
            try:
                image = self.read_image(path)
            except Exception as exc:  # an unreadable image is skipped, not fatal
                with self._lock:
                    self._failed[name] = str(exc)
                continue
            try:
                scores, used_key = self.prelabeler.probabilities(image, self.class_names())
            except Exception as exc:  # a model problem: stop and report it
                with self._lock:
                    if self._model_key == model_key:
                        self._error = str(exc)
                    self._done.notify_all()
                return
            value = mean_entropy(scores)
            with self._lock:
                if used_key != self._model_key:  # the model changed meanwhile: reset and go on
                    self._reset(self._current_model_key())
                    continue
                self._cache[name] = (image_key, value)
                self._done.notify_all()
