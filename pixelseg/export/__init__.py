"""Export for deployment: ONNX files and a torch-free ONNX runtime wrapper.

- :func:`export_onnx` (MATLAB ``exportONNXNetwork``), in :mod:`pixelseg.export.onnx`
  (needs torch, onnx, onnxscript, onnxruntime);
- :class:`OnnxSegmenter`, in :mod:`pixelseg.export.runtime`, which imports only NumPy,
  onnxruntime and Pillow, so a deployment needs neither torch nor the rest of pixelseg.

Names are imported lazily so that importing the runtime never pulls in torch.
"""

from __future__ import annotations

from pixelseg.utils.lazy import lazy_exports

_EXPORTS = {
    "export_onnx": "pixelseg.export.onnx",
    "ExportVerificationError": "pixelseg.export.onnx",
    "OnnxSegmenter": "pixelseg.export.runtime",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
