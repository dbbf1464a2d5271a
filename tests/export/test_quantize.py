"""Static int8 quantization: export_onnx(quantize="int8"), quantize_onnx, the report, and
`pixelseg export --quantize int8` through a subprocess.

A tiny SegNet (one VGG stage) is trained for a few dozen steps on synthetic street scenes
(sky, road, a red car) so that its classes are decided with a margin, as a trained
network's are; it is exported to float ONNX once per session.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from pixelseg.checkpoint import TrainedNetwork
from pixelseg.cli import main
from pixelseg.data import ClassSet, ImageDatastore, PixelLabelDatastore, combine
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.export import OnnxSegmenter, QuantizationReport, export_onnx, quantize_onnx, read_quantization_report
from pixelseg.models import segnet

CLASSES = ClassSet(["sky", "road", "car"])
SIZE = (32, 48)


def scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 32 x 48 street scene (uint8 RGB) and its labels: sky above a horizon, road below,
    a red car somewhere on the road; noise of +-12 grey levels."""
    rng = np.random.default_rng(seed)
    h, w = SIZE
    labels = np.ones((h, w), np.uint8)
    labels[: rng.integers(8, 16)] = 0
    top, left = rng.integers(16, h - 8), rng.integers(0, w - 14)
    labels[top: top + 8, left: left + 14] = 2
    colors = np.array([[110, 160, 230], [100, 100, 100], [200, 30, 40]], np.int16)
    image = colors[labels] + rng.integers(-12, 13, (h, w, 3))
    return np.clip(image, 0, 255).astype(np.uint8), labels


def write_scenes(folder: Path, seeds, labels_folder: Path | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if labels_folder is not None:
        labels_folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        image, labels = scene(seed)
        Image.fromarray(image).save(folder / f"scene_{seed}.png")
        if labels_folder is not None:
            Image.fromarray(labels).save(labels_folder / f"scene_{seed}.png")
    return folder


@pytest.fixture(scope="session")
def tiny_trained():
    """A one-stage SegNet fitted to the scenes (10 Adam steps of 4 scenes)."""
    torch.manual_seed(0)
    net = segnet(image_size=SIZE, num_classes=3, encoder_depth=1)
    pairs = [scene(1000 + i) for i in range(4)]
    x = torch.from_numpy(np.stack([p[0] for p in pairs])).permute(0, 3, 1, 2).float() / 255
    y = torch.from_numpy(np.stack([p[1] for p in pairs])).long()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    net.train()
    for _ in range(10):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    return net.eval()


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scenes")
    write_scenes(root / "calibration", range(4))
    write_scenes(root / "val_images", range(100, 103), root / "val_labels")
    return root


@pytest.fixture(scope="session")
def float_model(tiny_trained, tmp_path_factory) -> Path:
    return export_onnx(tiny_trained, tmp_path_factory.mktemp("float") / "float.onnx", class_set=CLASSES,
                       example_size=SIZE)


def _validation(data: Path):
    return combine(ImageDatastore(data / "val_images"), PixelLabelDatastore(data / "val_labels", CLASSES))


def _op_counts(path: Path) -> collections.Counter:
    return collections.Counter(node.op_type for node in onnx.load(path).graph.node)


def test_int8_model_runs_in_onnx_segmenter_and_agrees_with_float(float_model, data, tmp_path):
    out = tmp_path / "int8.onnx"
    files = sorted((data / "calibration").glob("*.png"))
    report = quantize_onnx(float_model, out, files, validation=_validation(data))
    ops = _op_counts(out)
    assert ops["QuantizeLinear"] >= 3 and ops["DequantizeLinear"] >= 3 and ops["Conv"] >= 1
    conv_weights = [i for i in onnx.load(out).graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert any(len(i.dims) == 4 for i in conv_weights)  # int8 convolution weights
    int8, reference = OnnxSegmenter(out), OnnxSegmenter(float_model)
    assert int8.class_names == ["sky", "road", "car"] and int8.input_shape[2:] == (None, None)
    agree = [np.mean(int8.predict(image) == reference.predict(image)) for image, _ in map(scene, range(200, 206))]
    assert min(agree) >= 0.9, agree
    odd = scene(7)[0][:29, :41]  # any size, as the float model
    assert np.mean(int8.predict(odd) == reference.predict(odd)) >= 0.9

    assert isinstance(report, QuantizationReport) and report.mode == "int8" and report.images == 4
    assert report.float_images_per_s > 0 and report.int8_images_per_s > 0
    assert report.speedup == pytest.approx(report.int8_images_per_s / report.float_images_per_s)
    assert 0.9 <= report.pixel_agreement <= 1
    assert report.validation_images == 3 and report.float_mean_iou > 0.5
    assert report.mean_iou_change == pytest.approx(report.int8_mean_iou - report.float_mean_iou)
    assert abs(report.mean_iou_change) < 0.1
    assert report.int8_bytes == out.stat().st_size < report.float_bytes
    assert report.settings["format"] == "QDQ" and report.settings["per_channel"] is True
    stored = read_quantization_report(out)
    assert stored.to_dict() == {**report.to_dict(), "int8_bytes": stored.int8_bytes}
    assert read_quantization_report(float_model) is None
    assert "images/s" in report.summary() and "mean IoU on 3 validation pair(s)" in report.summary()


def test_export_onnx_quantize_int8_with_a_datastore(tiny_trained, data, tmp_path):
    path = export_onnx(TrainedNetwork(network=tiny_trained, class_set=CLASSES), tmp_path / "m.onnx",
                       example_size=SIZE, quantize="int8", calibration=ImageDatastore(data / "calibration"))
    assert _op_counts(path)["DequantizeLinear"] > 0
    report = read_quantization_report(path)
    assert report.images == 4 and report.float_mean_iou is None and "mean IoU" not in report.summary()
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert "pixelseg.verification" in meta and "pixelseg.class_names" in meta
    assert OnnxSegmenter(path).predict(scene(3)[0]).shape == SIZE
    with pytest.raises(FileExistsError):  # never overwritten unasked
        export_onnx(tiny_trained, path, quantize="int8", calibration=data / "calibration")


def test_bad_quantization_arguments_fail_before_the_export(tiny_trained, tmp_path):
    out = tmp_path / "m.onnx"
    (tmp_path / "empty").mkdir()
    for kwargs, error, match in (
        ({"quantize": "int8"}, ConfigurationError, "needs calibration images"),
        ({"quantize": "int4", "calibration": tmp_path}, ConfigurationError, "quantize='int4' is not supported"),
        ({"calibration": tmp_path}, ConfigurationError, "calibration= is used only with quantize='int8'"),
        ({"quantize": "int8", "calibration": []}, DataError, "calibration list is empty"),
        ({"quantize": "int8", "calibration": tmp_path / "empty"}, DataError, "no image files.*empty"),
        ({"quantize": "int8", "calibration": tmp_path / "missing"}, FileNotFoundError, "missing does not exist"),
    ):
        with pytest.raises(error, match=match):
            export_onnx(tiny_trained, out, quantize=kwargs.get("quantize"), calibration=kwargs.get("calibration"))
    assert not out.exists()


def test_unreadable_or_unfit_calibration_images_are_named(float_model, data, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png"):
        quantize_onnx(float_model, tmp_path / "a.onnx", [data / "calibration" / "scene_0.png", broken])
    four = tmp_path / "rgba.tif"
    Image.fromarray(np.zeros((8, 8, 4), np.uint8), "RGBA").save(four)
    with pytest.raises(DataError, match=r"rgba.tif.*4 channel"):
        quantize_onnx(float_model, tmp_path / "a.onnx", ImageDatastore(four, channels=None))
    with pytest.raises(ConfigurationError, match="validation data has 2 classes but the model 3"):
        quantize_onnx(float_model, tmp_path / "a.onnx", data / "calibration",
                      validation=combine(ImageDatastore(data / "val_images"),
                                         PixelLabelDatastore(data / "val_labels", ClassSet(["a", "b"]))))
    assert not (tmp_path / "a.onnx").exists()
    with pytest.raises(ConfigurationError, match="is the float model itself"):
        quantize_onnx(float_model, float_model, data / "calibration", overwrite=True)


def test_cli_export_int8_through_a_subprocess(tiny_trained, data, tmp_path):
    checkpoint = TrainedNetwork(network=tiny_trained, class_set=CLASSES).save(tmp_path / "tiny.pt")
    out = tmp_path / "tiny_int8.onnx"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [sys.executable, "-m", "pixelseg", "export", str(checkpoint), str(out), "--size", "32x48",
         "--quantize", "int8", "--calibration", str(data / "calibration"),
         "--validation-images", str(data / "val_images"), "--validation-labels", str(data / "val_labels")],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith(f"wrote int8 model {out} (float onnxruntime vs PyTorch")
    assert "images/s" in lines[-1] and "mean IoU on 3 validation pair(s)" in lines[-1]
    assert _op_counts(out)["QuantizeLinear"] > 0
    assert read_quantization_report(out).validation_images == 3


def test_cli_quantization_errors_are_one_sentence(tiny_trained, data, tmp_path, capsys):
    checkpoint = TrainedNetwork(network=tiny_trained, class_set=CLASSES).save(tmp_path / "tiny.pt")
    out = str(tmp_path / "m.onnx")
    for args, expected in (
        (["--quantize", "int8"], "needs calibration images"),
        (["--quantize", "int8", "--calibration", str(tmp_path / "nowhere")], "nowhere does not exist"),
        (["--quantize", "int8", "--calibration", str(data / "calibration"), "--validation-images",
          str(data / "val_images")], "--validation-images needs --validation-labels"),
    ):
        with pytest.raises(SystemExit) as info:
            main(["export", str(checkpoint), out, *args])
        err = capsys.readouterr().err
        assert info.value.code == 2 and expected in err and len(err.strip().splitlines()) == 1, err
