"""``export_onnx``: a network to an ONNX file that knows its classes, checked with onnxruntime.

Answers MATLAB's ``exportONNXNetwork``. The graph is produced by ``torch.onnx.export(...,
dynamo=True)`` (``torch.export`` + onnxscript), which handles SegNet's max-unpooling. The
model takes float32 N x C x H x W in [0, 1] (normalisation is inside the network) and returns
logits N x K x H x W and their argmax, the labels N x H x W (the graph is a
:class:`~pixelseg.export.graph.DeploymentGraph`; a network trained on resized images is resized
inside it, to its inference size and back). Class names, colours and the input convention are stored in the model's
``metadata_props`` (keys ``pixelseg.*``), which :class:`~pixelseg.export.runtime.OnnxSegmenter`
reads, so a deployment knows its classes without pixelseg.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from pixelseg.errors import ConfigurationError, PixelsegError
from pixelseg.export.graph import INPUT_NAME, LABELS_NAME, OUTPUT_NAME, DeploymentGraph
from pixelseg.inference.predictor import default_class_set, network_in_channels, unwrap_network
from pixelseg.utils.extras import require

#: Version of the metadata layout written into ``metadata_props``.
METADATA_VERSION = "1"
#: The lowest opset torch's dynamo exporter implements (``torch.onnx``'s TORCHLIB_OPSET).
MIN_OPSET = 18
#: what a missing package of the ``export`` extra is reported for
FEATURE = "ONNX export"


class ExportVerificationError(PixelsegError):
    """The exported model's outputs differ from PyTorch's by more than the tolerance."""


def export_onnx(
    net,
    path,
    opset: int | None = None,
    dynamic_size: bool = True,
    *,
    example_size: tuple[int, int] | None = None,
    class_set=None,
    verify: bool = True,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    overwrite: bool = False,
    quantize: str | None = None,
    calibration=None,
    validation=None,
) -> Path:
    """Export a segmentation network to ONNX and check it with onnxruntime.

    With ``quantize="int8"`` the file written is the int8 (QDQ) model that
    :func:`~pixelseg.export.quantize.quantize_onnx` makes of the float export with onnxruntime's
    static quantizer, calibrated on ``calibration``; :class:`~pixelseg.export.runtime.OnnxSegmenter`
    runs it unchanged. Its metadata ``pixelseg.quantization`` holds the
    :class:`~pixelseg.export.quantize.QuantizationReport` (float vs int8 speed, agreement and,
    with ``validation``, mean IoU), which :func:`~pixelseg.export.quantize.read_quantization_report`
    reads back.

    Args:
        net: a ``TrainedNetwork`` (its class set is stored too) or a ``SegmentationNetwork``.
        path: destination ``.onnx`` file, written atomically.
        opset: ONNX opset version, from :data:`MIN_OPSET` (18, the lowest torch's exporter
            implements; lower ones it converts on a best-effort basis and silently keeps 18
            when that fails) to the highest the installed ``onnx`` package knows
            (:func:`supported_opsets`). None lets the exporter choose (its default, >= 18).
        dynamic_size: batch, height and width are dynamic axes (any N, H, W the network
            takes). False: fixed at ``example_size`` with batch 1.
        example_size: (H, W) of the example input used for tracing; default a TrainedNetwork's
            ``inference_size`` (the size it was trained at), else the network's
            ``config["image_size"]`` when set, else 96 x 128. A TrainedNetwork's
            ``inference_size`` is stored in the metadata (``pixelseg.inference_size``, ``[H, W]``)
            and images are resized to it and the scores back, as ``semanticseg`` does: inside
            the graph when ``dynamic_size`` (metadata ``pixelseg.resize_inside`` true; the
            model then takes images at their own size), else by OnnxSegmenter.
        class_set: the ClassSet stored in the metadata; default the TrainedNetwork's, else
            names "class0".. with :func:`~pixelseg.inference.default_colormap` colours.
        verify: run the model with onnxruntime on random inputs at two sizes (one with
            ``dynamic_size=False``) and compare with PyTorch.
        atol, rtol: the largest difference of logits allowed is ``atol + rtol * max |logit|``
            (defaults 1e-4 and 1e-4). Float32 rounding grows with the activations: for DeepLab
            v3+ on ImageNet EfficientNet-Lite0 with an untrained head (logits up to 170),
            PyTorch float32 differs from float64 by 3.6e-4 and channels-last from contiguous
            by 2e-4, so onnxruntime's 3e-4 is rounding, not a wrong export. A wrong operator
            or padding shows as differences of order 0.1 or more. A trained network's logits
            are smaller (the demo network's export differs by 2.8e-5).
        overwrite: replace an existing file.
        quantize: None (default): the float32 model. ``"int8"``: static int8 quantization.
        calibration: with ``quantize``: the calibration images, a folder, an image file, a
            glob pattern, a list of them or an ImageDatastore (at least one image; a few
            dozen typical of the deployment), pre-processed as OnnxSegmenter does.
        validation: with ``quantize``, optional: a PairedDatastore (images not used for
            calibration) on which the mean IoU of both models is measured.

    Returns:
        The path written.

    Raises:
        ConfigurationError: bad arguments (not a network, bad sizes, a class set of the
            wrong size, an opset outside :func:`supported_opsets`, or a written model whose
            opset is not the one asked for; an unknown ``quantize``, ``quantize`` without
            ``calibration`` or ``calibration`` / ``validation`` without ``quantize``).
        DataError: no calibration images, or one unreadable or that the model cannot take
            (named). QuantizationError: onnxruntime's quantizer failed.
        ExportVerificationError: onnxruntime's logits differ from PyTorch's by more than
            that tolerance (the message gives the size, the difference and the tolerance).
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        FileNotFoundError: the folder of ``path`` does not exist (checked before exporting).
        MissingExtraError: onnx, onnxscript or (with ``verify``) onnxruntime is not
            installed; the message names ``pip install "pixelseg[export]"``.
    """
    from pixelseg.export.quantize import calibration_datastore, check_quantize_arguments, quantize_onnx
    from pixelseg.utils.atomic import atomic_write

    check_quantize_arguments(quantize, calibration, validation)
    onnx = require("onnx", "export", FEATURE)
    require("onnxscript", "export", FEATURE)  # torch.onnx's dynamo exporter writes the graph with it
    if verify:
        require("onnxruntime", "export", FEATURE)
    _check_opset(opset)
    module, net_class_set = unwrap_network(net)
    path = check_destination(path, overwrite)
    in_channels = network_in_channels(module) or 3
    if quantize is not None:  # a missing or empty calibration location fails before the export
        calibration = calibration_datastore(calibration, in_channels)
    inference_size = getattr(net, "inference_size", None)  # a TrainedNetwork's training size
    size = _example_size(module, example_size if example_size is not None else inference_size)
    sizes = [size, _second_size(size)] if dynamic_size else [size]
    graph = DeploymentGraph(module, inference_size if dynamic_size else None)
    was_training = module.training
    module.eval()
    try:
        device = next(iter(module.parameters()), torch.zeros(())).device
        x = _random_input(1, in_channels, size, seed=0).to(device)
        with torch.no_grad():
            num_classes = int(module(x).shape[1])
        class_set = default_class_set(num_classes, class_set if class_set is not None else net_class_set)
        with _quiet_exporter():
            program = torch.onnx.export(
                graph,
                (x,),
                dynamo=True,
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME, LABELS_NAME],
                dynamic_shapes=({0: "batch", 2: "height", 3: "width"},) if dynamic_size else None,
                verbose=False,
                report=False,
            )
        model = program.model_proto
        _check_written_opset(model, opset)
        report = _verify(model, graph, in_channels, sizes, (atol, rtol), device) if verify else []
        _set_metadata(model, graph, class_set, in_channels, dynamic_size, report, inference_size)
    finally:
        module.train(was_training)
    if quantize is None:
        with atomic_write(path, overwrite=overwrite) as tmp:
            onnx.save_model(model, str(tmp))
        return path
    with tempfile.TemporaryDirectory(prefix="pixelseg-float-") as folder:
        float_path = Path(folder) / "float.onnx"
        onnx.save_model(model, str(float_path))
        quantize_onnx(float_path, path, calibration, validation=validation, overwrite=overwrite)
    return path


def check_destination(path, overwrite: bool) -> Path:
    """``path`` as a Path, checked before any work: an ``.onnx`` file to write.

    Raises:
        ConfigurationError: ``path`` is a folder. FileExistsError: it exists and
            ``overwrite`` is False. FileNotFoundError: its folder does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigurationError(f"{path} is a folder; give the path of the .onnx file to write")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite on the command line) to replace it")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {path.parent} for {path.name} does not exist")
    return path


def supported_opsets() -> range:
    """The ONNX opsets :func:`export_onnx` writes: :data:`MIN_OPSET` to the highest opset of
    the installed ``onnx`` package (both included).

    Raises:
        MissingExtraError: onnx is not installed (``pip install "pixelseg[export]"``).
    """
    onnx = require("onnx", "export", FEATURE)

    return range(MIN_OPSET, onnx.defs.onnx_opset_version() + 1)


def _check_opset(opset) -> None:
    if opset is None:
        return
    allowed = supported_opsets()
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or int(opset) not in allowed:
        raise ConfigurationError(
            f"opset={opset!r} is not supported: torch's ONNX exporter writes opsets {allowed.start} to "
            f"{allowed.stop - 1} here (below {MIN_OPSET} it would silently write {MIN_OPSET})"
        )


def _check_written_opset(model, opset) -> None:
    """The exporter falls back to its own opset when it cannot convert; refuse that."""
    written = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is not None and written != int(opset):
        raise ConfigurationError(
            f"opset={opset} was asked for, but torch's exporter wrote opset {written}; use an opset "
            f"from {MIN_OPSET} up"
        )


#: loggers of torch's ONNX exporter and the libraries it drives
EXPORTER_LOGGERS = ("torch.onnx", "torch.export", "onnx_ir", "onnxscript", "torch._dynamo")


@contextlib.contextmanager
def _quiet_exporter(names: tuple[str, ...] = EXPORTER_LOGGERS):
    """Silence progress chatter (warnings, and log lines below ERROR of the loggers ``names``
    and their children) during the block; default: torch's exporter."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _example_size(module, example_size) -> tuple[int, int]:
    if example_size is None:
        config = getattr(module, "config", None) or {}
        image_size = config.get("image_size") if isinstance(config, dict) else None
        example_size = tuple(image_size[:2]) if image_size else (96, 128)
    try:
        h, w = (int(v) for v in example_size)
    except (TypeError, ValueError):
        raise ConfigurationError(f"example_size must be (H, W), got {example_size!r}") from None
    if h < 1 or w < 1:
        raise ConfigurationError(f"example_size must be positive, got {example_size!r}")
    return h, w


def _second_size(size: tuple[int, int]) -> tuple[int, int]:
    """A different size, not a multiple of common strides, to exercise dynamic axes."""
    return size[0] + 37, max(1, size[1] - 21)


def _random_input(n: int, c: int, size: tuple[int, int], seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, *size, generator=generator)


def _verify(model, graph, in_channels, sizes, tolerance, device) -> list[dict]:
    """Run ``model`` with onnxruntime at each size and compare its logits with those of
    ``graph`` (the DeploymentGraph exported); ``tolerance`` is (atol, rtol)."""
    import onnxruntime as ort

    atol, rtol = tolerance

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [OUTPUT_NAME] + [o.name for o in session.get_outputs() if o.name == LABELS_NAME]
    report = []
    for k, size in enumerate(sizes):
        x = _random_input(1 + k, in_channels, size, seed=1 + k)  # batch 2 at the second size
        with torch.no_grad():
            expected = graph(x.to(device))[0].float().cpu().numpy()
        got, *labels = session.run(names, {INPUT_NAME: x.numpy()})
        if got.shape != expected.shape:
            raise ExportVerificationError(
                f"the ONNX model returns logits {got.shape} for input {tuple(x.shape)}, PyTorch {expected.shape}"
            )
        if labels and not np.array_equal(labels[0], got.argmax(axis=1)):
            raise ExportVerificationError(
                f"the ONNX model's labels {labels[0].shape} are not the argmax of its logits for input "
                f"{tuple(x.shape)}"
            )
        diff = float(np.max(np.abs(got - expected))) if got.size else 0.0
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        allowed = atol + rtol * scale
        if not diff <= allowed:
            raise ExportVerificationError(
                f"the ONNX model's logits differ from PyTorch's by up to {diff:.3g} for input "
                f"{tuple(x.shape)}, more than the tolerance {allowed:.3g} (atol {atol:g} + rtol {rtol:g} "
                f"x max |logit| {scale:.3g})"
            )
        report.append({"input_shape": list(x.shape), "max_abs_diff": diff, "max_abs_logit": scale,
                       "tolerance": allowed})
    return report


def _set_metadata(model, graph, class_set, in_channels, dynamic_size, report, inference_size=None) -> None:
    config = getattr(graph.network, "config", None)
    entries = {
        "pixelseg.metadata_version": METADATA_VERSION,
        "pixelseg.class_names": json.dumps(list(class_set.names)),
        "pixelseg.class_colors": json.dumps(np.asarray(class_set.colors).astype(int).tolist()),
        "pixelseg.num_classes": str(class_set.num_classes),
        "pixelseg.in_channels": str(in_channels),
        "pixelseg.void": "255",
        "pixelseg.input": f"{INPUT_NAME}: float32 N x {in_channels} x H x W, values in [0, 1] "
        "(uint8 / 255); normalisation is inside the model",
        "pixelseg.output": f"{OUTPUT_NAME}: float32 N x K x H x W logits; {LABELS_NAME}: N x H x W "
        "class indices, their argmax over K (uint8 for up to 256 classes)",
        "pixelseg.resize_inside": "true" if graph.inference_size is not None else "false",
        "pixelseg.dynamic_size": "true" if dynamic_size else "false",
        "pixelseg.verification": json.dumps(report),
    }
    if isinstance(config, dict):
        entries["pixelseg.config"] = json.dumps(config, default=str)
    if inference_size is not None:
        entries["pixelseg.inference_size"] = json.dumps([int(v) for v in inference_size])
    existing = {p.key: p for p in model.metadata_props}
    for key, value in entries.items():
        if key in existing:
            existing[key].value = value
        else:
            prop = model.metadata_props.add()
            prop.key, prop.value = key, value
