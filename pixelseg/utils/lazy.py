"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package lists ``name -> module`` and gets ``__getattr__``/``__dir__`` that import the
module on first use, so ``import pixelseg`` stays cheap and torch-free parts (the ONNX
runtime, overlays, the labeling server) never import torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """Return ``(__getattr__, __dir__)`` for ``package`` re-exporting ``exports`` lazily.

    Args:
        package: the package's ``__name__`` (for error messages).
        exports: public name -> module that defines it (a name that is the package's own
            submodule maps to that submodule).
        namespace: the package's ``globals()``; imported values are cached there.
    """

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module)
        value = imported if module == f"{package}.{name}" else getattr(imported, name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
