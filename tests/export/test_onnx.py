"""export_onnx on every network family, SegNet's max-unpooling included, and OnnxSegmenter
without torch.

One tiny SegNet (2 VGG stages) is exported once per session: the exporter costs seconds.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
import torch

from pixelseg.checkpoint import TrainedNetwork
from pixelseg.cli import main
from pixelseg.data import ClassSet
from pixelseg.export import ExportVerificationError, OnnxSegmenter, export_onnx
from pixelseg.export.onnx import _verify
from pixelseg.export.graph import DeploymentGraph
from pixelseg.inference import semanticseg
from pixelseg.models import segnet
from pixelseg.workflow.export import run_export

CLASSES = ClassSet(["sky", "road", "car"], colors=[[128, 128, 128], [128, 64, 128], [64, 0, 128]])


@pytest.fixture(scope="session")
def tiny_segnet():
    torch.manual_seed(0)
    return segnet(image_size=(32, 48), num_classes=3, encoder_depth=1).eval()


@pytest.fixture(scope="session")
def export_run(tiny_segnet, tmp_path_factory):
    """The one export of the session, through `pixelseg export`'s work function."""
    folder = tmp_path_factory.mktemp("onnx")
    checkpoint = TrainedNetwork(network=tiny_segnet, class_set=CLASSES).save(folder / "tiny.pt")
    messages: list[str] = []
    path = run_export(checkpoint, folder / "segnet.onnx", echo=messages.append)
    return path, messages


@pytest.fixture(scope="session")
def exported(export_run):
    return export_run[0]


def test_segnet_export_verified_at_two_sizes(export_run):
    exported, messages = export_run
    model = onnx.load(exported)
    meta = {p.key: p.value for p in model.metadata_props}
    report = json.loads(meta["pixelseg.verification"])
    assert [r["input_shape"] for r in report] == [[1, 3, 32, 48], [2, 3, 69, 27]]
    assert all(r["max_abs_diff"] <= 1e-4 for r in report)
    ops = {node.op_type for node in model.graph.node}
    assert "MaxPool" in ops and ("MaxUnpool" in ops or "ScatterND" in ops)  # the unpooling is in the graph
    assert json.loads(meta["pixelseg.class_names"]) == ["sky", "road", "car"]
    assert json.loads(meta["pixelseg.class_colors"])[2] == [64, 0, 128]
    assert json.loads(meta["pixelseg.config"])["name"] == "segnet"
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims[1] == 3 and all(isinstance(d, str) for d in (dims[0], dims[2], dims[3]))
    assert messages == [f"wrote {exported} (onnxruntime vs PyTorch max |difference| "
                        f"1x3x32x48: {report[0]['max_abs_diff']:.1e}, 2x3x69x27: {report[1]['max_abs_diff']:.1e})"]


def test_onnx_segmenter_matches_semanticseg(exported, tiny_segnet):
    seg = OnnxSegmenter(exported)
    assert seg.class_names == ["sky", "road", "car"] and seg.colors.shape == (3, 3)
    image = np.random.default_rng(0).integers(0, 256, (37, 29, 3), dtype=np.uint8)
    labels, score, probs = seg.predict(image, return_scores=True, all_scores=True)
    ref_labels, ref_probs = semanticseg(image, tiny_segnet, all_scores=True, device="cpu")
    assert labels.dtype == np.uint8 and labels.shape == (37, 29)
    np.testing.assert_allclose(probs, ref_probs, atol=1e-5)
    assert np.mean(labels == ref_labels) > 0.999  # argmax may flip only on exact ties
    np.testing.assert_allclose(score, probs.max(0), atol=1e-7)
    batch = seg.predict(np.stack([image, image[::-1]]))
    assert batch.shape == (2, 37, 29) and np.array_equal(batch[0], labels)


def test_onnx_segmenter_files_and_errors(exported, tmp_path):
    from PIL import Image

    seg = OnnxSegmenter(exported)
    image = np.random.default_rng(1).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "a.png")
    labels = seg.predict_file(tmp_path / "a.png")
    assert np.array_equal(labels, seg.predict(image))
    out = seg.save_labels(labels, tmp_path / "a_labels.png")
    with Image.open(out) as png:
        assert png.mode == "P" and png.getpalette()[:3] == [128, 128, 128]
        assert np.array_equal(np.asarray(png), labels)
    with pytest.raises(FileExistsError):
        seg.save_labels(labels, out)
    with pytest.raises(ValueError, match="4 channel.*takes 3"):
        seg.predict(np.zeros((8, 8, 4), np.uint8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        seg.predict(np.full((8, 8, 3), 2.0, np.float32))
    bare = onnx.load(exported)
    del bare.metadata_props[:]
    onnx.save(bare, tmp_path / "bare.onnx")
    with pytest.raises(ValueError, match="no pixelseg metadata"):
        OnnxSegmenter(tmp_path / "bare.onnx")


def test_runtime_imports_neither_torch_nor_the_rest_of_pixelseg(exported):
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["torch"] = None  # any 'import torch' now fails
        import numpy as np
        from pixelseg.export.runtime import OnnxSegmenter
        seg = OnnxSegmenter({str(exported)!r})
        labels = seg.predict(np.zeros((16, 16, 3), np.uint8))
        assert labels.shape == (16, 16), labels.shape
        loaded = sorted(m for m in sys.modules if m.startswith("pixelseg"))
        allowed = {{"pixelseg", "pixelseg.export", "pixelseg.export.runtime", "pixelseg.utils", "pixelseg.utils.lazy", "pixelseg.utils.pixels"}}
        assert set(loaded) <= allowed, loaded
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_verification_catches_a_mismatch(exported, tiny_segnet):
    class Shifted(torch.nn.Module):
        def forward(self, x):
            return tiny_segnet(x) + 1e-3

    with pytest.raises(ExportVerificationError, match=r"differ from PyTorch's by up to 0.001 .*more than the tolerance"):
        _verify(onnx.load(exported), DeploymentGraph(Shifted()), 3, [(32, 48)], (1e-4, 1e-5), torch.device("cpu"))


def test_tolerance_grows_with_the_logits():
    """atol + rtol x max |logit|: a difference of 1e-3 passes for logits near 150
    (tolerance 1e-4 + 1e-5 x 150 = 1.6e-3) and fails with rtol 0."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["image", "scale"], ["logits"])], "times150",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        initializer=[numpy_helper.from_array(np.array(150.0, np.float32), "scale")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9

    class Reference(torch.nn.Module):
        def forward(self, x):
            return x * 150.0 + 1e-3

    report = _verify(model, DeploymentGraph(Reference()), 3, [(8, 8)], (1e-4, 1e-5), torch.device("cpu"))
    assert report[0]["max_abs_diff"] == pytest.approx(1e-3, rel=0.05)
    assert report[0]["tolerance"] == pytest.approx(1e-4 + 1e-5 * report[0]["max_abs_logit"])
    with pytest.raises(ExportVerificationError, match=r"rtol 0 x max \|logit\| 150"):
        _verify(model, DeploymentGraph(Reference()), 3, [(8, 8)], (1e-4, 0.0), torch.device("cpu"))


def test_existing_file_not_overwritten(exported, tiny_segnet):
    with pytest.raises(FileExistsError, match="segnet.onnx"):
        export_onnx(tiny_segnet, exported)


def test_cli_export_errors_are_one_sentence(exported, tmp_path, capsys):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"junk")
    for args, expected in (
        (["export", str(bogus), str(tmp_path / "m.onnx")], "bogus.pt"),
        (["export", str(exported), str(tmp_path / "m.onnx")], "pixelseg"),  # an .onnx is no checkpoint
    ):
        with pytest.raises(SystemExit) as info:
            main(args)
        err = capsys.readouterr().err
        assert info.value.code == 2 and expected in err and len(err.strip().splitlines()) == 1


def test_onnx_segmenter_fixed_size_model(tmp_path):
    """A hand-built fixed-size model (logits = image, 3 classes): argmax and the size check."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["logits"])],
        "identity",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 4, 5])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3, 4, 5])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    for key, value in {"pixelseg.class_names": '["r", "g", "b"]',
                       "pixelseg.class_colors": "[[255, 0, 0], [0, 255, 0], [0, 0, 255]]",
                       "pixelseg.in_channels": "3"}.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(model, tmp_path / "fixed.onnx")
    seg = OnnxSegmenter(tmp_path / "fixed.onnx")
    image = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    assert np.array_equal(seg.predict(image), image.argmax(axis=2))
    with pytest.raises(ValueError, match="fixed height of 4, got 6"):
        seg.predict(np.zeros((6, 5, 3), np.uint8))


@pytest.mark.parametrize("name, kwargs", [
    ("unet", {"num_first_encoder_filters": 4, "encoder_depth": 3}),
    ("deeplabv3plus", {"backbone": "efficientnet_lite0"}),
    ("fcn", {"type": "8s"}),
], ids=["unet", "deeplabv3plus-lite0", "fcn8s"])
def test_every_network_family_exports_and_matches_at_two_sizes(name, kwargs, tmp_path, monkeypatch):
    """Each family, tiny, verified by onnxruntime at two sizes not multiples of the stride."""
    from pixelseg.models import create_network

    monkeypatch.setattr(importlib.import_module("pixelseg.models.fcn"), "FC_CHANNELS", 32)
    torch.manual_seed(0)
    net = _with_calibrated_batch_norm(create_network(name, 3, **kwargs))
    path = export_onnx(net, tmp_path / f"{name}.onnx", example_size=(40, 56))
    report = json.loads({p.key: p.value for p in onnx.load(path).metadata_props}["pixelseg.verification"])
    assert len(report) == 2 and report[0]["input_shape"] != report[1]["input_shape"]
    assert all(r["max_abs_diff"] <= r["tolerance"] <= 1e-4 + 1e-4 * r["max_abs_logit"] for r in report)
    image = np.random.default_rng(1).integers(0, 256, (37, 45, 3), dtype=np.uint8)
    _, probs = OnnxSegmenter(path).predict(image, all_scores=True)
    np.testing.assert_allclose(probs, semanticseg(image, net, all_scores=True)[1], atol=1e-4)


def _with_calibrated_batch_norm(net):
    """The network in eval mode with batch-norm statistics of a few random batches, as a
    trained network has. With the default statistics (mean 0, variance 1) a deep random
    network's logits reach about 100, where float32 rounding alone differs by 1e-4."""
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(4, 3, 40, 56))
    return net.eval()


def test_segmenter_and_export_bad_inputs_are_clear_errors(exported, tiny_segnet, tmp_path):
    """Reported from a break-it session: NaN images were labelled, an empty image and a
    non-image file crashed inside onnxruntime / Pillow, 16-bit grey PNGs were clipped to 8
    bits (labels differed from semanticseg's), and an export into a folder or a missing
    folder failed only after the whole export."""
    from PIL import Image

    from pixelseg.export.runtime import OnnxSegmenterError

    seg = OnnxSegmenter(exported)
    image = np.full((8, 8, 3), 0.5, np.float32)
    image[1, 1] = np.nan
    with pytest.raises(OnnxSegmenterError, match="3 NaN or infinite"):
        seg.predict(image)
    with pytest.raises(OnnxSegmenterError, match="empty: its size is 0 x 8"):
        seg.predict(np.zeros((0, 8, 3), np.uint8))
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    with pytest.raises(OnnxSegmenterError, match="notes.png could not be read as an image"):
        seg.predict_file(not_image)
    with pytest.raises(FileNotFoundError, match="nodir"):
        seg.save_labels(np.zeros((4, 4), np.uint8), tmp_path / "nodir" / "x.png")
    grey16 = np.random.default_rng(3).integers(0, 65536, (24, 40), dtype=np.uint16)
    Image.fromarray(grey16).save(tmp_path / "grey16.png")
    _, probs = seg.predict(np.repeat(grey16[..., None], 3, -1), all_scores=True)
    np.testing.assert_allclose(probs, semanticseg(tmp_path / "grey16.png", tiny_segnet, all_scores=True)[1], atol=1e-5)
    np.testing.assert_array_equal(seg.predict_file(tmp_path / "grey16.png"), probs.argmax(0))
    (tmp_path / "folder.onnx").mkdir()
    with pytest.raises(Exception, match="is a folder"):
        export_onnx(tiny_segnet, tmp_path / "folder.onnx", overwrite=True, verify=False)
    with pytest.raises(FileNotFoundError, match="nodir"):
        export_onnx(tiny_segnet, tmp_path / "nodir" / "m.onnx", verify=False)


@pytest.mark.parametrize("dynamic_size", [True, False])
def test_a_network_trained_on_resized_images_is_resized_by_the_segmenter_too(tiny_segnet, tmp_path, dynamic_size):
    """A network trained at 32 x 48 (inference_size) labels a 64 x 96 image at 32 x 48 and
    upsamples the scores, in onnxruntime as in semanticseg; without the metadata the ONNX model
    would run at 64 x 96, a scale it never saw. A dynamic-size model resizes inside its graph
    (it takes the image at its own size), a fixed-size one is given the resized image."""
    trained = TrainedNetwork(network=tiny_segnet, class_set=CLASSES, inference_size=(32, 48))
    path = export_onnx(trained, tmp_path / "resized.onnx", dynamic_size=dynamic_size)
    seg = OnnxSegmenter(path)
    assert seg.inference_size == (32, 48)
    metadata = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert json.loads(metadata["pixelseg.inference_size"]) == [32, 48]
    assert metadata["pixelseg.resize_inside"] == ("true" if dynamic_size else "false")
    assert seg.resizes_inside is dynamic_size
    # a smooth image, so that Pillow's and torch's bilinear filters agree closely
    y, x = np.mgrid[0:64, 0:96]
    image = np.stack([(2 * x) % 256, (3 * y) % 256, (x + y) % 256], axis=-1).astype(np.uint8)
    labels, probs = seg.predict(image, all_scores=True)
    ref_labels, ref_probs = semanticseg(image, trained, all_scores=True, input_size=trained.inference_size,
                                        device="cpu")
    assert labels.shape == (64, 96) and probs.shape == (3, 64, 96)
    assert np.abs(probs - ref_probs).mean() < 0.01
    assert np.mean(labels == ref_labels) > 0.97
    assert seg.logits(image).shape == (1, 3, 64, 96)
    # what the model is given (int8 calibration too)
    assert seg.preprocess(image).shape == ((1, 3, 64, 96) if dynamic_size else (1, 3, 32, 48))
    plain = OnnxSegmenter(export_onnx(tiny_segnet, tmp_path / "plain.onnx"))
    assert plain.inference_size is None and plain.preprocess(image).shape == (1, 3, 64, 96)


@pytest.mark.parametrize("size", [(37, 53), (7, 5), (16, 24), (3, 100)])
def test_the_runtime_resizes_scores_as_torch_does(size):
    from pixelseg.export.runtime import resize_bilinear

    scores = np.random.default_rng(0).normal(size=(2, 3, 16, 24)).astype(np.float32)
    expected = torch.nn.functional.interpolate(torch.from_numpy(scores), size=size, mode="bilinear",
                                               align_corners=False).numpy()
    np.testing.assert_allclose(resize_bilinear(scores, size), expected, atol=1e-5)


def test_the_model_returns_the_labels_beside_the_logits(exported):
    """The graph's second output is the argmax of its logits, uint8 for up to 256 classes."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["logits", "labels"]
    x = np.random.default_rng(3).random((2, 3, 40, 56), dtype=np.float32)
    logits, labels = session.run(None, {"image": x})
    assert labels.dtype == np.uint8 and labels.shape == (2, 40, 56)
    np.testing.assert_array_equal(labels, logits.argmax(axis=1))
    meta = {p.key: p.value for p in onnx.load(exported).metadata_props}
    assert "labels: N x H x W" in meta["pixelseg.output"]


def test_a_file_exported_before_the_labels_output_still_segments(tiny_segnet, tmp_path):
    """A model with only the logits and no pixelseg.resize_inside key (files exported before the
    resizes and the argmax moved into the graph), of a network trained at 32 x 48: OnnxSegmenter
    resizes on the host and takes the argmax itself, and labels as the new file does."""
    trained = TrainedNetwork(network=tiny_segnet, class_set=CLASSES, inference_size=(32, 48))
    new = OnnxSegmenter(export_onnx(trained, tmp_path / "new.onnx"))
    model = onnx.load(export_onnx(TrainedNetwork(network=tiny_segnet, class_set=CLASSES), tmp_path / "plain.onnx"))
    del model.graph.output[1]  # the labels
    props = [p for p in model.metadata_props if p.key != "pixelseg.resize_inside"]
    del model.metadata_props[:]
    model.metadata_props.extend(props)
    model.metadata_props.add(key="pixelseg.inference_size", value="[32, 48]")
    onnx.save(model, tmp_path / "old.onnx")
    old = OnnxSegmenter(tmp_path / "old.onnx")
    assert old.labels_name is None and not old.resizes_inside and old.inference_size == (32, 48)
    y, x = np.mgrid[0:64, 0:96]
    image = np.stack([(2 * x) % 256, (3 * y) % 256, (x + y) % 256], axis=-1).astype(np.uint8)
    assert old.preprocess(image).shape == (1, 3, 32, 48)
    labels = old.predict(image)
    assert labels.shape == (64, 96) and labels.dtype == np.uint8
    assert np.mean(labels == new.predict(image)) > 0.97  # Pillow's resize against torch's
