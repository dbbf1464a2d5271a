"""Static int8 quantization of an exported pixelseg ONNX model, with onnxruntime's quantizer.

:func:`quantize_onnx` turns a float model written by :func:`~pixelseg.export.export_onnx`
into a QDQ model (``QuantizeLinear`` / ``DequantizeLinear`` around each quantized operator;
the ONNX Runtime documentation's recommended format on CPU since onnxruntime 1.11):

1. ``onnxruntime.quantization.shape_inference.quant_pre_process`` (graph optimisation and
   ONNX shape inference; not the symbolic one, meant for transformers);
2. ``onnxruntime.quantization.quantize_static`` with a ``CalibrationDataReader`` that feeds
   the calibration images through :meth:`OnnxSegmenter.preprocess
   <pixelseg.export.runtime.OnnxSegmenter.preprocess>`, the deployment's own pre-processing
   (uint8 / 255 into float32 N x C x H x W at each image's size);
   MinMax calibration, activations uint8 (asymmetric), weights int8 (symmetric), per output
   channel where onnxruntime supports it (Conv, ConvTranspose, Gemm, MatMul), as onnxruntime
   advises for x86 CPUs with VNNI and ARM CPUs.

The int8 model keeps the float model's ``pixelseg.*`` metadata, so
:class:`~pixelseg.export.runtime.OnnxSegmenter` runs it unchanged, and adds
``pixelseg.quantization``: a :class:`QuantizationReport` as JSON (speed of both models on the
calibration images, the share of pixels whose class agrees, and the mean IoU of both on
validation pairs when given).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.errors import ConfigurationError, DataError, PixelsegError
from pixelseg.export.onnx import FEATURE, _quiet_exporter, check_destination
from pixelseg.utils.extras import require

__all__ = ["QUANTIZE_MODES", "QuantizationError", "QuantizationReport", "calibration_datastore",
           "calibration_inputs", "check_quantize_arguments", "quantize_onnx", "read_quantization_report"]

#: the values of ``quantize=`` besides None
QUANTIZE_MODES = ("int8",)
#: metadata key of the report in the quantized model
REPORT_KEY = "pixelseg.quantization"
#: loggers of onnxruntime's quantization tools (symbolic shape inference warns per dimension)
_ORT_LOGGERS = ("onnxruntime", "root")


class QuantizationError(PixelsegError):
    """onnxruntime's quantizer failed on a model (the message names it and the cause)."""


@dataclasses.dataclass(frozen=True)
class QuantizationReport:
    """Float vs int8 onnxruntime on the same images, with the same session options.

    Attributes:
        mode: ``"int8"``.
        images: number of calibration images (the speed and agreement are measured on them).
        float_images_per_s, int8_images_per_s: images per second, one image per run, after
            one warm-up run, on onnxruntime's CPU provider.
        pixel_agreement: share of calibration pixels whose class (argmax) is the same, 0..1.
        float_bytes, int8_bytes: file sizes.
        validation_images: number of validation pairs (0: none given).
        float_mean_iou, int8_mean_iou: mean IoU on them (MATLAB definition, from
            :func:`pixelseg.evaluation.evaluate_semantic_segmentation`), None without.
        settings: the quantizer's settings (format, calibration method, types, per channel).
    """

    mode: str
    images: int
    float_images_per_s: float
    int8_images_per_s: float
    pixel_agreement: float
    float_bytes: int
    int8_bytes: int
    validation_images: int = 0
    float_mean_iou: float | None = None
    int8_mean_iou: float | None = None
    settings: dict = dataclasses.field(default_factory=dict)

    @property
    def speedup(self) -> float:
        """int8 images/s divided by float images/s."""
        return self.int8_images_per_s / self.float_images_per_s if self.float_images_per_s else float("nan")

    @property
    def mean_iou_change(self) -> float | None:
        """int8 mean IoU minus float mean IoU (None without validation)."""
        if self.float_mean_iou is None or self.int8_mean_iou is None:
            return None
        return self.int8_mean_iou - self.float_mean_iou

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict (what ``pixelseg.quantization`` holds)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> QuantizationReport:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def summary(self) -> str:
        """One line: speed, speed-up, agreement, sizes and (with validation) mean IoU."""
        text = (f"{self.mode} vs float onnxruntime on {self.images} calibration image(s): "
                f"{self.int8_images_per_s:.3g} vs {self.float_images_per_s:.3g} images/s ({self.speedup:.2f}x), "
                f"classes agree on {100 * self.pixel_agreement:.1f}% of pixels, "
                f"{self.int8_bytes / 1e6:.3g} MB vs {self.float_bytes / 1e6:.3g} MB")
        change = self.mean_iou_change
        if change is not None:
            text += (f"; mean IoU on {self.validation_images} validation pair(s) {self.int8_mean_iou:.4f} vs "
                     f"{self.float_mean_iou:.4f} ({change:+.4f})")
        return text


def check_quantize_arguments(quantize: Any, calibration: Any, validation: Any = None) -> None:
    """Check ``quantize=`` / ``calibration=`` / ``validation=`` before any work is done.

    Raises:
        ConfigurationError: ``quantize`` not None or one of :data:`QUANTIZE_MODES`;
            ``quantize`` without ``calibration``; ``calibration`` or ``validation`` without
            ``quantize``.
    """
    if quantize is None:
        for name, value in (("calibration", calibration), ("validation", validation)):
            if value is not None:
                raise ConfigurationError(f"{name}= is used only with quantize='int8' (--quantize int8); "
                                         "quantize is None")
        return
    if quantize not in QUANTIZE_MODES:
        raise ConfigurationError(f"quantize={quantize!r} is not supported; use None (float) or "
                                 + " or ".join(repr(m) for m in QUANTIZE_MODES))
    if calibration is None:
        raise ConfigurationError(f"quantize={quantize!r} needs calibration images (calibration=, --calibration): "
                                 "a folder, a list of image files or an ImageDatastore")


def quantize_onnx(model: str | os.PathLike, output: str | os.PathLike, calibration: Any, *,
                  validation: Any = None, per_channel: bool = True, num_threads: int | None = None,
                  overwrite: bool = False) -> QuantizationReport:
    """Quantize a float model of :func:`~pixelseg.export.export_onnx` to int8 (QDQ) and
    compare the two with onnxruntime.

    Args:
        model: the float ``.onnx`` file (with pixelseg's metadata).
        output: the int8 ``.onnx`` file to write (atomically).
        calibration: the calibration images: a folder, an image file, a glob pattern, a list
            of them, or an :class:`~pixelseg.data.ImageDatastore`; at least one image. They
            are read as pixelseg reads images (RGB, EXIF orientation; 16-bit kept and scaled
            by 1/65535) and held in memory: a few dozen images typical of the deployment
            are enough. A fixed-size model needs images of its size.
        validation: optional :class:`~pixelseg.data.PairedDatastore` (images as H x W x C
            arrays, labels H x W with void 255) with the model's classes; its mean IoU is
            measured for both models. Use images not among the calibration images.
        per_channel: one scale per output channel of each weight (default True).
        num_threads: onnxruntime intra-op threads of both timed sessions (None: its default).
        overwrite: replace an existing ``output``.

    Returns:
        The :class:`QuantizationReport`, also stored in the int8 model's metadata.

    Raises:
        ConfigurationError: ``output`` is a folder or ``model`` itself; validation classes
            differ from the model's.
        DataError: no calibration images, an unreadable one, or one the model cannot take
            (wrong channel count, or size of a fixed-size model), naming the file.
        FileNotFoundError: ``model`` or a calibration location does not exist, or the folder
            of ``output``. FileExistsError: ``output`` exists and ``overwrite`` is False.
        QuantizationError: onnxruntime's quantizer failed.
        MissingExtraError: onnx or onnxruntime's quantization tools are not installed.
    """
    from pixelseg.export.runtime import OnnxSegmenter
    from pixelseg.utils.atomic import atomic_write

    onnx = require("onnx", "export", FEATURE)
    require("onnxruntime.quantization", "export", "int8 quantization")
    model, output = Path(model), check_destination(output, overwrite)
    if output.resolve() == model.resolve():
        raise ConfigurationError(f"the int8 output {output} is the float model itself; write it to another file")
    float_model = OnnxSegmenter(model, num_threads=num_threads)
    images = calibration_inputs(calibration, float_model)
    with tempfile.TemporaryDirectory(prefix="pixelseg-int8-") as tmp:
        quantized = Path(tmp) / "int8.onnx"
        settings = _quantize(model, quantized, images, float_model.input_name, per_channel, Path(tmp))
        int8_model = OnnxSegmenter(quantized, num_threads=num_threads)
        float_rate, float_labels = _timed_labels(float_model, images)
        int8_rate, int8_labels = _timed_labels(int8_model, images)
        same = sum(int(np.count_nonzero(a == b)) for a, b in zip(float_labels, int8_labels))
        total = sum(a.size for a in float_labels)
        ious = _validation_mean_ious([float_model, int8_model], validation) if validation is not None else None
        report = QuantizationReport(
            mode="int8", images=len(images), float_images_per_s=float_rate, int8_images_per_s=int8_rate,
            pixel_agreement=same / total, float_bytes=model.stat().st_size, int8_bytes=quantized.stat().st_size,
            validation_images=len(validation) if validation is not None else 0,
            float_mean_iou=ious[0] if ious else None, int8_mean_iou=ious[1] if ious else None, settings=settings,
        )
        proto = onnx.load(str(quantized))
        prop = next((p for p in proto.metadata_props if p.key == REPORT_KEY), None) or proto.metadata_props.add()
        prop.key, prop.value = REPORT_KEY, json.dumps(report.to_dict())
        with atomic_write(output, overwrite=overwrite) as target:
            onnx.save_model(proto, str(target))
    return dataclasses.replace(report, int8_bytes=output.stat().st_size)


def read_quantization_report(path: str | os.PathLike) -> QuantizationReport | None:
    """The :class:`QuantizationReport` stored in a quantized model's metadata (None in a
    float model). Needs onnx."""
    onnx = require("onnx", "export", FEATURE)
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return QuantizationReport.from_dict(json.loads(meta[REPORT_KEY])) if REPORT_KEY in meta else None


def calibration_datastore(calibration: Any, in_channels: int = 3):
    """The calibration images as an :class:`~pixelseg.data.ImageDatastore` (listed, not read).

    Args:
        calibration: a folder, file, glob pattern, a list of them, or an ImageDatastore
            (used as it is).
        in_channels: the model's channels: 3 reads RGB; otherwise every stored band.

    Raises:
        DataError: no images (an empty list, folder or datastore).
        FileNotFoundError: a location that does not exist.
    """
    from pixelseg.data import ImageDatastore

    if isinstance(calibration, ImageDatastore):
        datastore = calibration
    elif isinstance(calibration, Sequence) and not isinstance(calibration, str) and not calibration:
        raise DataError("the calibration list is empty; give at least one image")
    else:
        datastore = ImageDatastore(calibration, channels=3 if in_channels == 3 else None)
    if len(datastore) == 0:
        raise DataError("the calibration datastore holds no images; give at least one")
    return datastore


def calibration_inputs(calibration: Any, segmenter) -> list[tuple[str, np.ndarray]]:
    """Read the calibration images and turn each into the model's input with
    :meth:`~pixelseg.export.runtime.OnnxSegmenter.preprocess`.

    Args:
        calibration: as for :func:`calibration_datastore`.
        segmenter: the float model's :class:`~pixelseg.export.runtime.OnnxSegmenter`.

    Returns:
        (file name, float32 1 x C x H x W) for each image, in datastore order.

    Raises:
        DataError: no images; an unreadable image or one the model cannot take (named).
        FileNotFoundError: a location that does not exist.
    """
    from pixelseg.export.runtime import OnnxSegmenterError

    datastore = calibration_datastore(calibration, segmenter.in_channels)
    inputs = []
    for i, path in enumerate(datastore.files):
        image = datastore.read(i)  # read errors name the file
        try:
            inputs.append((str(path), segmenter.preprocess(image)))
        except OnnxSegmenterError as exc:
            raise DataError(f"calibration image {path}: {exc}") from None
    return inputs


def _calibration_reader(input_name: str, images: list[tuple[str, np.ndarray]]):
    """onnxruntime's ``CalibrationDataReader`` giving ``{input_name: 1 x C x H x W}`` per image."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.rewind()

        def get_next(self) -> dict[str, np.ndarray] | None:
            item = next(self._iter, None)
            return None if item is None else {input_name: item[1]}

        def rewind(self) -> None:
            self._iter = iter(images)

    return Reader()


def _quantize(model: Path, output: Path, images, input_name: str, per_channel: bool, tmp: Path) -> dict:
    """quant_pre_process, then quantize_static into ``output``; returns the settings used."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    reader = _calibration_reader(input_name, images)
    prepared = _pre_process(model, tmp / "prepared.onnx")
    settings = {"format": "QDQ", "calibration": "MinMax", "activations": "uint8", "weights": "int8",
                "per_channel": bool(per_channel), "pre_process": prepared[1]}
    try:
        with _quiet_exporter(_ORT_LOGGERS):
            quantize_static(str(prepared[0]), str(output), reader, quant_format=QuantFormat.QDQ,
                            per_channel=bool(per_channel), activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
            # Not CalibMaxIntermediateOutputs: onnxruntime 1.32 drops the collected tensors
            # without computing their ranges ("No data is collected.").
    except Exception as exc:  # onnxruntime raises many kinds
        raise QuantizationError(f"onnxruntime could not quantize {model} ({type(exc).__name__}: {exc})") from exc
    return settings


def _pre_process(model: Path, prepared: Path) -> tuple[Path, str]:
    """onnxruntime's quant_pre_process (graph optimisation and ONNX shape inference) into
    ``prepared``; the model as it is when that fails. Returns the model to quantize and what
    was done.

    Symbolic shape inference is skipped: on these networks it adds nothing (the same QDQ
    nodes for SegNet and DeepLab v3+) and, where it gives up (U-Net's crops), onnxruntime
    writes ``sym_shape_infer_temp.onnx`` into the current folder.
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    try:
        with _quiet_exporter(_ORT_LOGGERS):
            quant_pre_process(str(model), str(prepared), skip_symbolic_shape=True)
    except Exception:  # onnxruntime raises many kinds; quantize_static runs without it
        return model, "skipped"
    return prepared, "optimisation and ONNX shape inference"


def _timed_labels(segmenter, images) -> tuple[float, list[np.ndarray]]:
    """Images per second of ``segmenter`` over ``images`` (one warm-up run first) and the
    H x W class maps."""
    segmenter.session.run([segmenter.output_name], {segmenter.input_name: images[0][1]})
    labels = []
    start = time.perf_counter()
    for _, x in images:
        labels.append(segmenter.session.run([segmenter.output_name], {segmenter.input_name: x})[0][0].argmax(0))
    elapsed = time.perf_counter() - start
    return len(images) / elapsed if elapsed > 0 else float("inf"), labels


def _validation_mean_ious(segmenters, validation) -> list[float]:
    """Mean IoU of each segmenter on the ``(image, label)`` pairs of ``validation``."""
    from pixelseg.evaluation import evaluate_semantic_segmentation

    class_set = getattr(validation, "class_set", None)
    k = segmenters[0].num_classes
    if class_set is not None and class_set.num_classes != k:
        raise ConfigurationError(f"the validation data has {class_set.num_classes} classes but the model {k}")
    predictions: list[list[np.ndarray]] = [[] for _ in segmenters]
    truths = []
    for i in range(len(validation)):
        image, label = validation[i]
        for segmenter, store in zip(segmenters, predictions):
            store.append(segmenter.predict(np.asarray(image)))
        truths.append(np.asarray(label))
    if not truths:
        raise DataError("the validation data holds no pairs")
    return [float(evaluate_semantic_segmentation(p, truths, class_set=class_set or k, metrics=["iou"],
                                                 verbose=False).dataset_metrics["mean_iou"].iloc[0])
            for p in predictions]
