"""Optional extras: one clear sentence when a feature's packages are not installed.

The core install (``pip install pixelseg``) reads data, builds and trains networks, evaluates
and runs inference. Features that need more packages are extras of the distribution
(``pyproject.toml``): ``label`` (the web labeling app), ``export`` (ONNX export and
:class:`~pixelseg.export.OnnxSegmenter`), ``tiff`` (compressed TIFFs, tile-by-tile TIFF
reading), ``geo`` (GeoTIFF and COG input and output of tiled inference), ``mat`` (MATLAB
``.mat`` label files), ``coco`` (COCO segmentation exports), ``tensorboard`` and ``video``
(PyAV: video inference); ``all`` installs every one. Each optional entry point calls
:func:`require` (or raises :class:`MissingExtraError`), so a missing package is reported as
the ``pip install`` command to run, not as a traceback ending in ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pixelseg.errors import PixelsegError

__all__ = ["MissingExtraError", "install_command", "require"]


def install_command(extra: str) -> str:
    """The shell command that installs ``extra``: ``pip install "pixelseg[extra]"``."""
    return f'pip install "pixelseg[{extra}]"'


class MissingExtraError(PixelsegError, ImportError):
    """A feature needs a package of an optional extra that is not installed.

    Also an ``ImportError``, so code that falls back when a package is missing still does.
    The command line prints the message (one sentence naming the ``pip install`` to run)
    with exit code 2.

    Args:
        module: the import name that failed (``fastapi``, ``onnxruntime``...).
        extra: the extra that installs it (``label``, ``export``, ``tiff``, ``tensorboard``).
        feature: what the user tried, as the subject of the sentence (``pixelseg label``).
    """

    def __init__(self, module: str, extra: str, feature: str):
        self.module, self.extra, self.feature = module, extra, feature
        super().__init__(
            f'{feature} needs the "{extra}" extra ({module} is not installed): {install_command(extra)}',
            name=module,
        )


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` and return it.

    Raises:
        MissingExtraError: ``module`` (or a package it needs) cannot be imported; the
            message names ``feature``, the missing package and ``pip install "pixelseg[extra]"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(exc.name or module, extra, feature) from exc
