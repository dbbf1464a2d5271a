"""Web labeling app: FastAPI server (:mod:`pixelseg.labeling.server`) and static front end.

``create_app(images_dir, labels_dir, classes_path, model=None, token=None)`` builds the ASGI
app; ``run(...)`` serves it with uvicorn (``pixelseg label`` on the command line). Imported
lazily, so ``import pixelseg.labeling`` needs neither FastAPI nor torch.
"""

from __future__ import annotations

from pixelseg.utils.lazy import lazy_exports

_EXPORTS = {
    "create_app": "pixelseg.labeling.server",
    "run": "pixelseg.labeling.server",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
