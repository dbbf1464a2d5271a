"""``semanticseg_tiled(..., engine="ray")`` and ``pixelseg predict --tile-size N --ray``: the tile
rows of one image on Ray workers, the label file of the single-process path pixel for pixel,
georeferencing kept, the command line, bounded in-order streaming, and the errors.

The tests that run Ray share the 2-CPU local Ray instance of conftest.py's ``cluster``
(skipped without ray); the rasters are a few hundred pixels wide, in tiles of 64.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import tifffile

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import semanticseg_tiled
from pixelseg.inference.tiled_blend import RowPart
from pixelseg.utils.extras import MissingExtraError

from .cli import run_main
from .conftest import RAY_HINT

TILED = {"tile_size": 64, "overlap": 8, "device": "cpu", "progress": False}
ON_RAY = {"engine": "ray", "num_workers": 2}


@pytest.fixture(scope="module")
def tiff(tmp_path_factory):
    """A 150 x 230 RGB TIFF in TIFF tiles of 32: 3 x 4 network tiles of 64 with overlap 8."""
    path = tmp_path_factory.mktemp("tiff") / "big.tif"
    tifffile.imwrite(path, np.random.default_rng(3).integers(0, 256, (150, 230, 3), dtype=np.uint8), tile=(32, 32))
    return path


@pytest.fixture(scope="module")
def single(network, tiff, tmp_path_factory):
    """The single-process label file of ``tiff`` (mini-batches of 3 tiles)."""
    return semanticseg_tiled(tiff, network, tmp_path_factory.mktemp("single") / "labels.tif", mini_batch_size=3,
                             **TILED)


def _tiff_labels(path) -> tuple[np.ndarray, np.ndarray | None]:
    with tifffile.TiffFile(path) as tif:
        return tif.pages[0].asarray(), tif.pages[0].colormap


def test_ray_writes_the_label_file_of_one_process(cluster, network, tiff, single, tmp_path):
    out = semanticseg_tiled(tiff, network, tmp_path / "labels.tif", mini_batch_size=3, **TILED, **ON_RAY)
    labels, colormap = _tiff_labels(out)
    expected, expected_colormap = _tiff_labels(single)
    assert labels.dtype == np.uint8 and labels.shape == (150, 230)
    assert np.array_equal(labels, expected) and np.array_equal(colormap, expected_colormap)
    assert len(np.unique(labels)) > 1  # a real answer, not a constant map
    assert [p.name for p in tmp_path.iterdir()] == ["labels.tif"]  # no temporary file left
    # the network may also be given as its file; the labels can come back as an array
    assert np.array_equal(semanticseg_tiled(tiff, str(network.checkpoint), mini_batch_size=3, **TILED, **ON_RAY),
                          expected)


def test_a_geotiff_keeps_its_crs_transform_and_nodata_and_may_become_a_cog(cluster, network, tmp_path):
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import Affine

    transform = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0)
    scene = np.random.default_rng(4).integers(1, 256, (3, 140, 200), dtype=np.uint8)
    scene[:, :6] = 0  # a nodata border at the top
    path = tmp_path / "scene.tif"
    with rasterio.open(path, "w", driver="GTiff", count=3, height=140, width=200, dtype="uint8", crs="EPSG:32633",
                       transform=transform, nodata=0, tiled=True, blockxsize=64, blockysize=64) as dst:
        dst.write(scene)
    local = semanticseg_tiled(path, network, tmp_path / "local.tif", **TILED)
    on_ray = semanticseg_tiled(path, network, tmp_path / "ray.tif", cog=True, **TILED, **ON_RAY)
    with rasterio.open(local) as a, rasterio.open(on_ray) as b:
        assert b.crs == a.crs == rasterio.crs.CRS.from_string("EPSG:32633") and b.transform == transform
        assert b.nodata == 255 and b.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        labels = b.read(1)
        assert np.array_equal(labels, a.read(1)) and np.all(labels[:6] == 255) and labels[6:].max() < 3
        assert b.colormap(1)[1][:3] == a.colormap(1)[1][:3] == (128, 64, 128)


def test_cli_tile_size_with_ray_writes_the_named_file_and_then_keeps_it(cluster, network, tiff, single, tmp_path,
                                                                        capsys):
    out = tmp_path / "labels.tif"
    args = ["predict", str(network.checkpoint), str(tiff), "--out", str(out), "--tile-size", "64", "--overlap", "8",
            "--mini-batch-size", "3", "--ray", "local", "--workers", "2", "--device", "cpu"]
    code, _, err = run_main(args, capsys)
    assert code == 0, err
    assert "labelled 1 image(s)" in err and [p.name for p in tmp_path.iterdir()] == ["labels.tif"]
    assert np.array_equal(_tiff_labels(out)[0], _tiff_labels(single)[0])
    stamp = out.stat().st_mtime_ns
    code, _, err = run_main(args, capsys)  # run again: the output exists, so it is kept (resume)
    assert code == 0 and "kept 1 existing label file(s)" in err and out.stat().st_mtime_ns == stamp


def test_cli_a_label_file_for_several_images_is_one_sentence(network, tiff, tmp_path, capsys):
    code, _, err = run_main(["predict", str(network.checkpoint), str(tiff), str(tiff), "--out",
                             str(tmp_path / "labels.tif"), "--tile-size", "64", "--ray", "local"], capsys)
    assert code == 2 and "names one label file, but 2 images were given" in err and "Traceback" not in err
    assert not (tmp_path / "labels.tif").exists()


# ---------------------------------------------------------------------------- without a cluster
def test_bad_inputs_and_options_are_one_line_errors(network, tiff, tmp_path):
    pytest.importorskip("ray")
    with pytest.raises(ConfigurationError, match=r'^engine="ray" reads the image on the workers: give the path'):
        semanticseg_tiled(np.zeros((80, 80, 3), np.uint8), network, **TILED, **ON_RAY)
    with pytest.raises(ConfigurationError, match="engine must be 'local' or 'ray'"):
        semanticseg_tiled(tiff, network, engine="spark", **TILED)
    with pytest.raises(ConfigurationError, match="num_workers, threads_per_worker and gpus_per_worker only with 'ray'"):
        semanticseg_tiled(tiff, network, threads_per_worker=4, **TILED)
    with pytest.raises(ConfigurationError, match="num_workers must be a positive integer, got 0"):
        semanticseg_tiled(tiff, network, engine="ray", num_workers=0, **TILED)
    with pytest.raises(DataError, match="missing.tif does not exist"):
        semanticseg_tiled(tmp_path / "missing.tif", network, **TILED, **ON_RAY)
    not_a_network = tmp_path / "net.pt"
    not_a_network.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError):
        semanticseg_tiled(tiff, not_a_network, **TILED, **ON_RAY)


def test_without_ray_the_error_is_one_sentence_with_the_command(monkeypatch, network, tiff, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError) as info:
        semanticseg_tiled(tiff, network, tmp_path / "labels.tif", **TILED, **ON_RAY)
    assert str(info.value) == RAY_HINT
    code, _, err = run_main(["predict", str(network.checkpoint), str(tiff), "--out", str(tmp_path / "cli.tif"),
                             "--tile-size", "64", "--ray", "local"], capsys)
    assert code == 2 and RAY_HINT in err
    assert not list(tmp_path.iterdir())


def test_a_worker_reports_an_unreadable_image_rather_than_raising(network, tiff, tmp_path):
    from pixelseg.inference.distributed import _network_payload
    from pixelseg.inference.tiled_blend import TileAxis
    from pixelseg.inference.tiled_ray import TileRowActor

    options = {"image": str(tmp_path / "gone.tif"), "geo": False, "bands": None, "channels": 3,
               "rows": TileAxis(150, 64, 8), "cols": TileAxis(230, 64, 8), "window": "cosine", "mini_batch_size": 2,
               "device": "cpu", "tta": False}
    result = TileRowActor(_network_payload(network)[1], 1, options).label_row(0)
    assert result == {"error": f"{tmp_path / 'gone.tif'} does not exist", "kind": "DataError"}
    part = TileRowActor(_network_payload(network)[1], 1, {**options, "image": str(tiff)}).label_row(1)["part"]
    assert part.i == 1 and part.labels.shape == (40, 232) and part.labels.dtype == np.uint8  # rows 8..47
    assert part.tops.shape == (4, 3, 8, 64) and part.next_down.shape == (3, 8, 232)


def test_rows_come_back_in_order_with_a_bounded_number_ahead():
    from pixelseg.inference.tiled_ray import _in_order

    class Ref:
        def __init__(self, i):
            self.i = i

    class Actor:
        def __init__(self):
            self.label_row = self

        def remote(self, i):
            return Ref(i)

    class FakeRay:
        """Finishes the latest submitted row first, and counts the rows taken but not yet handed on."""

        def __init__(self):
            self.taken, self.most_ahead = 0, 0

        def wait(self, refs, num_returns):
            self.most_ahead = max(self.most_ahead, max(r.i for r in refs) + 1 - self.taken)
            return [max(refs, key=lambda r: r.i)], []

        def get(self, ref):
            self.taken += 1
            return {"part": RowPart(ref.i, np.full((2, 3), ref.i, np.uint8), None, None)}

    ray = FakeRay()
    parts = list(_in_order(ray, [Actor(), Actor()], 9, 4, lambda: None))
    assert [p.i for p in parts] == list(range(9)) and parts[5].labels.tolist() == [[5] * 3] * 2
    assert ray.most_ahead <= 4
    with pytest.raises(DataError, match="cannot read rows"):
        list(_in_order(_Failing(), [Actor()], 3, 2, lambda: None))


class _Failing:
    def wait(self, refs, num_returns):
        return refs[:1], []

    def get(self, ref):
        return {"error": "scene.tif: cannot read rows 0 to 63", "kind": "DataError"}
