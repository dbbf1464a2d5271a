"""Export for deployment: ONNX files and a torch-free ONNX runtime wrapper.

- :func:`export_onnx` (MATLAB ``exportONNXNetwork``), in :mod:`pixelseg.export.onnx`
  (needs torch, onnx, onnxscript, onnxruntime);
- :class:`OnnxSegmenter`, in :mod:`pixelseg.export.runtime`, which imports only NumPy,
  onnxruntime and Pillow, so a deployment needs neither torch nor the rest of pixelseg.

Names are imported lazily so that importing the runtime never pulls in torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "export_onnx": "pixelseg.export.onnx",
    "ExportVerificationError": "pixelseg.export.onnx",
    "OnnxSegmenter": "pixelseg.export.runtime",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pixelseg.export' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
