"""Pre-labeling with a trained pixelseg network (``pixelseg label --model CHECKPOINT``).

The checkpoint is loaded on first use (torch and the network code are imported only
then), kept in memory, and run one image at a time under a lock.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from pixelseg.errors import ConfigurationError


class Prelabeler:
    """Predicts an H x W uint8 label map with a saved :class:`TrainedNetwork`.

    Args:
        checkpoint: path of a file written by ``TrainedNetwork.save``.

    Raises:
        ConfigurationError: the checkpoint file does not exist (checked at once).
    """

    def __init__(self, checkpoint):
        self.checkpoint = Path(checkpoint)
        if not self.checkpoint.is_file():
            raise ConfigurationError(f"model checkpoint {checkpoint} does not exist")
        self._trained = None
        self._lock = threading.Lock()

    def _load(self):
        if self._trained is None:
            from pixelseg.checkpoint import load_network

            self._trained = load_network(self.checkpoint)
        return self._trained

    def predict(self, image: np.ndarray, class_names: list[str]) -> np.ndarray:
        """Label ``image`` (H x W x 3 uint8) -> H x W uint8 class indices.

        Raises:
            ConfigurationError: the network's classes are not the first classes of the
                app's class list (same names, same order), so its indices would mean
                other classes.
        """
        from pixelseg.inference import semanticseg

        with self._lock:
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
            prediction = semanticseg(image, trained, device="auto")
        return np.asarray(prediction, dtype=np.uint8)
