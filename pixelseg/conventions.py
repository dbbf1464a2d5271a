"""Conventions every stage shares; this module imports nothing.

- Label maps are H x W uint8 arrays of class indices ``0..K-1``; the value :data:`VOID`
  marks void (unlabelled or ignored) pixels, which the loss (``ignore_index``), every
  metric and the overlays leave out, and which augmentation uses to pad masks.
- Hence at most :data:`MAX_CLASSES` classes.
- Network ``weights``: None, or the word ``"none"`` (any case) as a YAML config writes it,
  means random initialisation (:func:`means_no_weights`).
"""

__all__ = ["VOID", "MAX_CLASSES", "means_no_weights"]

#: Class index of void (unlabelled / ignored) pixels in every label map pixelseg returns.
VOID = 255
#: Label maps are uint8 with 255 reserved for void, hence at most 255 classes.
MAX_CLASSES = 255


def means_no_weights(weights: object) -> bool:
    """Whether a network's ``weights`` value asks for random initialisation: None or the
    word ``"none"`` in any case (a YAML config's ``weights: none``, as ``class_weights: none``)."""
    return weights is None or (isinstance(weights, str) and weights.lower() == "none")
