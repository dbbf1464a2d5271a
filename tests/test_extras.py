"""A feature whose extra is not installed says, in one sentence, which ``pip install`` to run;
the core works without any extra; OnnxSegmenter runs from its one file, without torch or pixelseg.

Missing packages are simulated with ``sys.modules[name] = None`` (any import of it then fails),
in this process or, where a module caches its imports, in a fresh subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import pixelseg
from pixelseg.errors import PixelsegError
from pixelseg.utils.extras import MissingExtraError, require

EXE = Path(sys.executable).with_name("pixelseg")
EXTRA_MODULES = ["fastapi", "starlette", "uvicorn", "skimage", "onnx", "onnxscript", "onnxruntime", "imagecodecs",
                 "zarr", "tensorboard", "h5py", "pycocotools", "rasterio", "av"]  # not scipy: torchmetrics (of Lightning) imports it when installed
LABEL_HINT = 'the labeling app (pixelseg label) needs the "label" extra (fastapi is not installed): ' \
             'pip install "pixelseg[label]"'


def _env_blocking(tmp_path: Path, modules: list[str]) -> dict:
    """Environment of a subprocess in which ``modules`` cannot be imported (a sitecustomize
    module on PYTHONPATH, which every Python process runs at start)."""
    site = tmp_path / "block"
    site.mkdir()
    (site / "sitecustomize.py").write_text(f"import sys\nfor name in {modules!r}:\n    sys.modules[name] = None\n")
    paths = [str(site), str(Path(pixelseg.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def test_require_names_the_feature_the_package_and_the_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingExtraError) as info:
        require("onnx", "export", "ONNX export")
    assert str(info.value) == 'ONNX export needs the "export" extra (onnx is not installed): pip install "pixelseg[export]"'
    assert isinstance(info.value, PixelsegError) and isinstance(info.value, ImportError)
    assert info.value.name == "onnx"


def test_require_returns_the_module():
    assert require("numpy", "core", "anything") is np


def test_export_onnx_without_onnxscript_names_the_export_extra(monkeypatch, tmp_path):
    from pixelseg.export import export_onnx

    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(MissingExtraError, match=r'^ONNX export needs the "export" extra \(onnxscript is not '
                                                r'installed\): pip install "pixelseg\[export\]"$'):
        export_onnx(None, tmp_path / "net.onnx")
    assert not (tmp_path / "net.onnx").exists()


def test_onnx_segmenter_without_onnxruntime_names_the_command(monkeypatch, tmp_path):
    from pixelseg.export.runtime import OnnxSegmenter

    model = tmp_path / "net.onnx"
    model.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ModuleNotFoundError, match=r'pip install onnxruntime \(or pip install "pixelseg\[export\]"\)'):
        OnnxSegmenter(model)


def test_geotiff_options_without_rasterio_name_the_geo_extra(monkeypatch, tmp_path):
    from pixelseg.inference import semanticseg_tiled

    monkeypatch.setitem(sys.modules, "rasterio", None)
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(MissingExtraError) as info:
        semanticseg_tiled(image, None, tmp_path / "labels.tif", cog=True)
    assert str(info.value) == ('Cloud Optimized GeoTIFF output (cog=True) needs the "geo" extra (rasterio is not '
                               'installed): pip install "pixelseg[geo]"')
    with pytest.raises(MissingExtraError, match=r'^band selection \(bands=\) needs the "geo" extra'):
        semanticseg_tiled(tmp_path / "scene.tif", None, bands=(3, 2, 1))
    assert not (tmp_path / "labels.tif").exists()


def test_segment_video_without_pyav_names_the_video_extra(monkeypatch, tmp_path):
    from pixelseg.inference import segment_video, write_video_labels

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "av", None)
    hint = (r'^video inference \(segment_video, pixelseg predict VIDEO\) needs the "video" extra \(av is not '
            r'installed\): pip install "pixelseg\[video\]"$')
    with pytest.raises(MissingExtraError, match=hint):
        segment_video(video, None)
    with pytest.raises(MissingExtraError, match=hint):
        write_video_labels(video, None, tmp_path / "labels.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_the_installed_pixelseg_label_without_fastapi_prints_the_install_hint(tmp_path):
    command = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "pixelseg"]
    result = subprocess.run([*command, "label", str(tmp_path), "--labels", str(tmp_path / "labels"),
                             "--classes", str(tmp_path / "classes.json")],
                            capture_output=True, text=True, timeout=120, env=_env_blocking(tmp_path, ["fastapi"]))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {LABEL_HINT}"
    assert not (tmp_path / "labels").exists()


@pytest.fixture(scope="module")
def core_only(tmp_path_factory):
    """What a core install does, in a subprocess where no extra's package can be imported:
    every pixelseg module imported, an LZW TIFF read, a TIFF opened for tiled inference."""
    tmp_path = tmp_path_factory.mktemp("core")
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "lzw.tif", compression="tiff_lzw")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "plain.tif")
    code = textwrap.dedent(
        f"""
        import importlib, json, pkgutil, warnings
        from pathlib import Path
        import pixelseg
        from pixelseg.utils.extras import MissingExtraError
        out = {{"refused": {{}}}}
        for info in pkgutil.walk_packages(pixelseg.__path__, "pixelseg."):
            if info.name != "pixelseg.__main__":
                try:
                    importlib.import_module(info.name)
                except MissingExtraError as exc:
                    out["refused"][info.name] = str(exc)
        from pixelseg.data.io import read_image
        out["lzw_shape"] = list(read_image(Path({str(tmp_path / "lzw.tif")!r})).shape)
        from pixelseg.inference.tiled_io import open_image_source
        try:
            with open_image_source(Path({str(tmp_path / "lzw.tif")!r})):
                pass
        except MissingExtraError as exc:
            out["lzw"] = str(exc)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with open_image_source(Path({str(tmp_path / "plain.tif")!r})) as source:
                out["rows"] = list(source.read_rows(0, 8).shape)
        out["zarr_warnings"] = [str(w.message) for w in caught]
        print(json.dumps(out))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env=_env_blocking(tmp_path, EXTRA_MODULES))
    assert result.returncode == 0, result.stderr
    return tmp_path, json.loads(result.stdout.strip().splitlines()[-1])


def test_every_core_module_imports_without_the_extras(core_only):
    _, out = core_only
    # the web app's modules refuse with the one-sentence hint; every other module imports
    assert out["refused"] == {"pixelseg.labeling.server": LABEL_HINT, "pixelseg.labeling.responses": LABEL_HINT}


def test_a_compressed_tiff_without_imagecodecs_reads_through_pillow(core_only):
    _, out = core_only
    assert out["lzw_shape"] == [8, 8, 3]


def test_tiled_reading_of_a_compressed_tiff_without_imagecodecs_names_the_tiff_extra(core_only):
    folder, out = core_only
    assert out["lzw"] == (f'{folder / "lzw.tif"}: reading this LZW-compressed TIFF needs the "tiff" extra '
                          '(imagecodecs is not installed): pip install "pixelseg[tiff]"')


def test_tiled_reading_without_zarr_warns_with_the_command(core_only):
    _, out = core_only
    assert any('pip install "pixelseg[tiff]" reads it tile by tile' in w for w in out["zarr_warnings"])
    assert out["rows"] == [8, 8, 3]  # read whole, still read


# --------------------------------------------------------------------------- the ONNX runtime alone
def _tiny_model(path: Path) -> None:
    """A pixelseg-like ONNX model: a 1 x 1 convolution, 3 channels -> 2 classes (class 1 where
    red > green), with the metadata export_onnx writes."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [2, 3, 1, 1], [0, 1, 0, 1, 0, 0])
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "w"], ["logits"])], "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2, "H", "W"])], [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    for key, value in {"pixelseg.class_names": '["background", "red"]',
                       "pixelseg.class_colors": "[[0, 0, 0], [255, 0, 0]]", "pixelseg.in_channels": "3"}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, path)


def test_onnx_segmenter_runs_from_its_one_file_without_torch_or_pixelseg(tmp_path):
    pytest.importorskip("onnxruntime")
    _tiny_model(tmp_path / "net.onnx")
    shutil.copy(Path(pixelseg.__file__).parent / "export" / "runtime.py", tmp_path / "deploy_runtime.py")
    code = textwrap.dedent(
        f"""
        import importlib.abc, importlib.util, sys

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "pixelseg", "lightning"):
                    raise ImportError(f"{{name}} is blocked")

        sys.meta_path.insert(0, Blocker())
        import numpy as np
        spec = importlib.util.spec_from_file_location("deploy_runtime", {str(tmp_path / "deploy_runtime.py")!r})
        runtime = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(runtime)
        seg = runtime.OnnxSegmenter({str(tmp_path / "net.onnx")!r})
        image = np.zeros((4, 5, 3), np.uint8)
        image[1:3, 2:4, 0] = 200
        labels = seg.predict(image)
        seg.save_labels(labels, {str(tmp_path / "labels.png")!r})
        try:
            seg.predict(np.full((4, 5, 3), np.nan, np.float32))
        except runtime.OnnxSegmenterError as exc:
            print("refused:", exc)
        print(labels.dtype, labels.tolist())
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "pixelseg")))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    refused, labels, loaded = result.stdout.strip().splitlines()
    assert refused == "refused: the image has 60 NaN or infinite value(s); a float image must hold finite values in [0, 1]"
    assert labels == "uint8 " + str([[0] * 5, [0, 0, 1, 1, 0], [0, 0, 1, 1, 0], [0] * 5])
    assert loaded == "[]"
    assert (tmp_path / "labels.png").is_file()
