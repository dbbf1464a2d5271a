"""Pre-labeling with a trained pixelseg network (``pixelseg label --model CHECKPOINT``).

The checkpoint is loaded on first use (torch and the network code are imported only
then), kept in memory, reloaded when the file changes (its modification time or size:
a fine-tuned network saved over the old one is picked up), and run one image at a time
under a lock.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError


class Prelabeler:
    """Predicts label maps and softmax scores with a saved :class:`TrainedNetwork`.

    Args:
        checkpoint: path of a file written by ``TrainedNetwork.save``, or the name of a shipped
            network (``"camvid"``, see ``pixelseg models``).

    Raises:
        ConfigurationError: the checkpoint file does not exist and no shipped network has that
            name (checked at once).
    """

    def __init__(self, checkpoint):
        from pixelseg.pretrained import resolve_network

        try:
            self.checkpoint = resolve_network(checkpoint)
        except FileNotFoundError as exc:
            raise ConfigurationError(f"model checkpoint: {exc}") from None
        if not self.checkpoint.is_file():
            raise ConfigurationError(f"model checkpoint {checkpoint} is not a file")
        self._trained = None
        self._loaded_key: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def model_key(self) -> tuple[int, int]:
        """(modification time in ns, size in bytes) of the checkpoint file: changes when it is replaced.

        Raises:
            ConfigurationError: the file is gone.
        """
        try:
            stat = self.checkpoint.stat()
        except FileNotFoundError:
            raise ConfigurationError(f"model checkpoint {self.checkpoint} no longer exists") from None
        return stat.st_mtime_ns, stat.st_size

    def _load(self):
        key = self.model_key()
        if self._trained is None or key != self._loaded_key:
            from pixelseg.checkpoint import load_network

            self._trained = load_network(self.checkpoint)
            self._loaded_key = key
        return self._trained

    def _checked(self, class_names: list[str]):
        """The loaded network, after checking that its classes are the project's first ones."""
        trained = self._load()
        model_set = getattr(trained, "class_set", None)
        if model_set is not None:
            names = list(model_set.names)
            if names != list(class_names[: len(names)]):
                raise ConfigurationError(
                    f"the model {self.checkpoint.name} predicts classes {names}, which are not "
                    f"the first classes of this project {list(class_names)}"
                )
        else:
            k = int(getattr(trained, "num_classes", getattr(trained.network, "num_classes", 0)))
            if k > len(class_names):
                raise ConfigurationError(
                    f"the model {self.checkpoint.name} predicts {k} classes; the project has "
                    f"only {len(class_names)}"
                )
        return trained

    def predict(self, image: np.ndarray, class_names: list[str], threshold: float | None = None) -> np.ndarray:
        """Label ``image`` (H x W x 3 uint8) -> H x W uint8 class indices.

        Args:
            threshold: pixels whose winning softmax score is below it are left void (255),
                so a labeller sees where the network is unsure; None or 0 keeps all.

        Raises:
            ConfigurationError: the network's classes are not the first classes of the
                app's class list (same names, same order), so its indices would mean
                other classes; a threshold outside [0, 1].
        """
        from pixelseg.inference import semanticseg

        if threshold is not None and not 0 <= threshold <= 1:
            raise ConfigurationError(f"threshold must be between 0 and 1 (a softmax score), got {threshold}")
        with self._lock:
            trained = self._checked(class_names)
            if not threshold:
                return np.asarray(semanticseg(image, trained, device="auto", progress=False), dtype=np.uint8)
            labels, scores = semanticseg(image, trained, device="auto", progress=False, return_scores=True)
        labels = np.asarray(labels, dtype=np.uint8).copy()
        labels[np.asarray(scores) < threshold] = VOID
        return labels

    def probabilities(self, image: np.ndarray, class_names: list[str]) -> tuple[np.ndarray, tuple[int, int]]:
        """(softmax scores K x H x W float32 of ``image``, :meth:`model_key` of the network used).

        Raises:
            ConfigurationError: as :meth:`predict`.
        """
        from pixelseg.inference import semanticseg

        with self._lock:
            trained = self._checked(class_names)
            key = self._loaded_key
            _, scores = semanticseg(image, trained, device="auto", progress=False, all_scores=True)
        return np.asarray(scores, dtype=np.float32), key
