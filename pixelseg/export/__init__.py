"""Export for deployment: ONNX files and a torch-free ONNX runtime wrapper.

- :func:`export_onnx` (MATLAB ``exportONNXNetwork``), in :mod:`pixelseg.export.onnx`
  (needs torch, onnx, onnxscript, onnxruntime);
- :func:`quantize_onnx` (static int8 quantization with onnxruntime's quantizer, also
  ``export_onnx(..., quantize="int8", calibration=...)``) and its :class:`QuantizationReport`,
  in :mod:`pixelseg.export.quantize`;
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
    "quantize_onnx": "pixelseg.export.quantize",
    "read_quantization_report": "pixelseg.export.quantize",
    "QuantizationReport": "pixelseg.export.quantize",
    "QuantizationError": "pixelseg.export.quantize",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
