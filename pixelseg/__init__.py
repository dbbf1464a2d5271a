"""pixelseg: semantic segmentation, the whole workflow.

The public API is re-exported here lazily, so that ``import pixelseg`` is cheap and a
deployment that only runs ONNX models (``pixelseg.export.runtime``) never imports torch.
"""

from __future__ import annotations

from pixelseg.utils.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    # data
    "ClassSet": "pixelseg.data",
    "VOID": "pixelseg.data",
    "ImageDatastore": "pixelseg.data",
    "PixelLabelDatastore": "pixelseg.data",
    "PairedDatastore": "pixelseg.data",
    "combine": "pixelseg.data",
    "partition": "pixelseg.data",
    "count_each_label": "pixelseg.data",
    "class_weights": "pixelseg.data",
    "Augmenter": "pixelseg.data",
    "augmentation": "pixelseg.data",
    # models
    "segnet": "pixelseg.models",
    "unet": "pixelseg.models",
    "deeplabv3plus": "pixelseg.models",
    "fcn": "pixelseg.models",
    "create_network": "pixelseg.models",
    "list_networks": "pixelseg.models",
    "summary": "pixelseg.models",
    # training
    "TrainingOptions": "pixelseg.training",
    "train_network": "pixelseg.training",
    "TrainedNetwork": "pixelseg.checkpoint",
    "load_network": "pixelseg.checkpoint",
    # evaluation
    "evaluate_semantic_segmentation": "pixelseg.evaluation",
    "SemanticSegmentationMetrics": "pixelseg.evaluation",
    "ConfusionMatrixAccumulator": "pixelseg.evaluation",
    # inference
    "semanticseg": "pixelseg.inference",
    "label_overlay": "pixelseg.inference",
    "label_legend": "pixelseg.inference",
    "semanticseg_tiled": "pixelseg.inference",
    # export
    "export_onnx": "pixelseg.export",
    "OnnxSegmenter": "pixelseg.export",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
