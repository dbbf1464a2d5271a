"""The export job (``pixelseg export``): a checkpoint -> an ONNX model checked with onnxruntime,
optionally quantized to int8 and compared with the float model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pixelseg.errors import ConfigurationError
from pixelseg.workflow._common import open_checkpoint

__all__ = ["run_export"]

_log = logging.getLogger(__name__)


def run_export(checkpoint: str | Path, output: str | Path, opset: int | None = None,
               size: tuple[int, int] | str | None = None, fixed_size: bool = False, overwrite: bool = False,
               verify: bool = True, quantize: str | None = None, calibration: str | Path | None = None,
               validation_images: str | Path | None = None, validation_labels: str | Path | None = None,
               label_suffix: str = "", echo: Callable[[str], None] = _log.info) -> Path:
    """Export the network in ``checkpoint`` to the ONNX file ``output`` (class names and
    colours in its metadata) and report the onnxruntime-vs-PyTorch check.

    Args:
        checkpoint: a file of ``TrainedNetwork.save`` or a run checkpoint.
        output: the ``.onnx`` file to write.
        opset: ONNX opset (None: the exporter's).
        size: example input H x W (``"HxW"`` or a pair; None: the training size, else 96 x 128).
        fixed_size: fix batch 1 and ``size`` instead of dynamic axes.
        overwrite: replace an existing file.
        verify: check the model against PyTorch with onnxruntime.
        quantize: None (float) or ``"int8"``: static int8 quantization calibrated on ``calibration``.
        calibration: with ``quantize``: a folder (or file, glob pattern) of calibration images.
        validation_images, validation_labels: with ``quantize``, optional: folders of images
            and their label files (the checkpoint's classes, paired by name, the labels'
            names ending with ``label_suffix``; label IDs 0..K-1 when the checkpoint has no
            classes) on which the mean IoU of the float and the int8 model are compared.
        echo: receives the summary lines; default: the logger (INFO).

    Returns:
        The path written.

    Raises:
        ConfigurationError: ``output`` is a folder, a bad ``size``, ``quantize`` or a
            combination of the quantization arguments.
        DataError: not a pixelseg checkpoint. FileExistsError: ``output`` exists and
            ``overwrite`` is False. ExportVerificationError: the check failed.
            DataError: no calibration image or one unreadable (named); unpaired validation files.
    """
    import json

    from pixelseg.export import export_onnx, read_quantization_report
    from pixelseg.utils.extras import require
    from pixelseg.utils.sizes import parse_size

    onnx = require("onnx", "export", "pixelseg export")

    trained = open_checkpoint(checkpoint)
    output = Path(output)
    if output.is_dir():
        raise ConfigurationError(f"the output {output} is a folder; give a file name such as model.onnx")
    example = parse_size(size, "--size") or (tuple(trained.input_size) if getattr(trained, "input_size", None) else None)
    validation = _validation_pairs(trained, validation_images, validation_labels, label_suffix)
    path = export_onnx(trained, output, opset=opset, dynamic_size=not fixed_size, example_size=example,
                       verify=verify, overwrite=overwrite, quantize=quantize, calibration=calibration,
                       validation=validation)
    meta = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    checks = json.loads(meta.get("pixelseg.verification", "[]"))
    detail = ", ".join(f"{'x'.join(map(str, c['input_shape']))}: {c['max_abs_diff']:.1e}" for c in checks)
    compared = "float onnxruntime" if quantize else "onnxruntime"
    checked = f" ({compared} vs PyTorch max |difference| {detail})" if detail else " (not verified)"
    echo(f"wrote {quantize + ' model ' if quantize else ''}{path}{checked}")
    if quantize:
        echo(read_quantization_report(path).summary())
    return path


def _validation_pairs(trained, images, labels, label_suffix: str):
    """The PairedDatastore of ``--validation-images`` / ``--validation-labels`` (None without).

    Raises:
        ConfigurationError: one folder given without the other.
    """
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        given, missing = ("--validation-images", "--validation-labels") if labels is None else \
            ("--validation-labels", "--validation-images")
        raise ConfigurationError(f"{given} needs {missing} too")
    from pixelseg.data import ImageDatastore, PixelLabelDatastore, combine
    from pixelseg.inference.predictor import default_class_set

    # a checkpoint without classes: "class0".. with label IDs 0..K-1, as the export names them
    class_set = trained.class_set or default_class_set(getattr(trained.network, "num_classes", None))
    return combine(ImageDatastore(images), PixelLabelDatastore(labels, class_set), label_suffix=label_suffix)
