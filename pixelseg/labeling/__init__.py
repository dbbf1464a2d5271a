"""Web labeling app: FastAPI server (:mod:`pixelseg.labeling.server`) and static front end.

``create_app(images_dir, labels_dir, classes_path, model=None, token=None)`` builds the ASGI
app; ``run(...)`` serves it with uvicorn (``pixelseg label`` on the command line).
"""

from __future__ import annotations

__all__ = ["create_app", "run"]


def __getattr__(name: str):
    if name in __all__:
        from pixelseg.labeling import server

        return getattr(server, name)
    raise AttributeError(f"module 'pixelseg.labeling' has no attribute {name!r}")
