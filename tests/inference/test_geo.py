"""Tiled inference of GeoTIFFs through rasterio: georeferencing kept, nodata -> void, COG
output, band selection, the command line, and the fallback without rasterio."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import tifffile
import torch

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import geo, semanticseg_tiled
from pixelseg.inference.predictor import default_class_set

from .conftest import DominantChannel, TinyConvNet, expected_dominant

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import Affine  # noqa: E402

from tests.inference.cli import run_main  # noqa: E402

CRS = "EPSG:32633"
TRANSFORM = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0)  # 10 m pixels, UTM 33N
TILED = {"tile_size": 128, "overlap": 16, "device": "cpu", "progress": False}


def _write_raster(path, bands: np.ndarray, **profile) -> None:
    """bands: C x H x W uint8, written as a tiled (64) GeoTIFF in EPSG:32633 unless profile says otherwise."""
    profile = {"driver": "GTiff", "count": bands.shape[0], "height": bands.shape[1], "width": bands.shape[2],
               "dtype": bands.dtype.name, "crs": CRS, "transform": TRANSFORM, "tiled": True, "blockxsize": 64,
               "blockysize": 64, **profile}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)


@pytest.fixture(scope="module")
def scene():
    """300 x 400 x 3 uint8, values 1..255 inside a nodata (0) border: 10 rows at the top, 7
    columns at the right; one pixel with a single 0 band (data, not nodata)."""
    image = np.random.default_rng(2).integers(1, 256, (300, 400, 3), dtype=np.uint8)
    image[:10] = 0
    image[:, -7:] = 0
    image[50, 60, 0] = 0
    return image


@pytest.fixture(scope="module")
def nodata_border(scene):
    border = np.zeros(scene.shape[:2], bool)
    border[:10] = border[:, -7:] = True
    return border


@pytest.fixture
def geotiff(tmp_path, scene):
    path = tmp_path / "scene.tif"
    _write_raster(path, np.moveaxis(scene, -1, 0), nodata=0)
    return path


@pytest.fixture(scope="module")
def net():
    return TinyConvNet().eval()


def test_output_keeps_crs_transform_and_palette_and_voids_nodata(geotiff, scene, nodata_border, net, tmp_path):
    out = semanticseg_tiled(geotiff, net, tmp_path / "labels.tif", **TILED)
    expected = semanticseg_tiled(scene, net, **TILED)  # the same tiles from the array
    expected[nodata_border] = 255
    with rasterio.open(out) as dst:
        assert dst.crs == rasterio.crs.CRS.from_string(CRS) and dst.transform == TRANSFORM
        assert dst.dtypes == ("uint8",) and dst.nodata == 255 and dst.count == 1
        assert dst.profile["tiled"] and dst.block_shapes == [(256, 256)]
        colors = default_class_set(4, None).colors
        colormap = dst.colormap(1)
        assert [colormap[k][:3] for k in range(4)] == [tuple(int(v) for v in c) for c in colors]
        labels = dst.read(1)
    assert np.array_equal(labels, expected)
    assert labels[50, 60] != 255  # one band at nodata is still data
    assert np.array_equal(semanticseg_tiled(geotiff, net, **TILED), expected)  # in memory too


def test_no_seams_a_pointwise_network_gives_the_whole_image_answer(geotiff, scene, nodata_border):
    labels = semanticseg_tiled(geotiff, DominantChannel(3).eval(), tile_size=64, overlap=8, device="cpu",
                               progress=False)
    expected = expected_dominant(scene)
    expected[nodata_border] = 255
    assert np.array_equal(labels, expected)


def test_cog_output_is_a_cloud_optimized_geotiff(geotiff, net, tmp_path):
    plain = semanticseg_tiled(geotiff, net, tmp_path / "plain.tif", **TILED)
    out = semanticseg_tiled(geotiff, net, tmp_path / "labels.tif", cog=True, tiff_tile=128, **TILED)
    with rasterio.open(out) as dst, rasterio.open(plain) as ref:
        assert dst.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert dst.profile["tiled"] and dst.block_shapes == [(128, 128)]
        assert dst.overviews(1) == [2, 4]
        assert dst.crs == ref.crs and dst.transform == ref.transform and dst.nodata == 255
        assert dst.colormap(1)[1] == ref.colormap(1)[1]
        assert np.array_equal(dst.read(1), ref.read(1))
        overview = dst.read(1, out_shape=(150, 200))  # nearest: only class indices and void
        assert set(np.unique(overview)) <= set(np.unique(ref.read(1)))
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch file left


def test_cog_without_gdals_cog_driver_is_a_tiled_geotiff_with_overviews(geotiff, net, tmp_path, monkeypatch):
    monkeypatch.setattr(geo, "_has_cog_driver", lambda: False)
    plain = semanticseg_tiled(geotiff, net, tmp_path / "plain.tif", **TILED)
    out = semanticseg_tiled(geotiff, net, tmp_path / "labels.tif", cog=True, tiff_tile=128, **TILED)
    with rasterio.open(out) as dst, rasterio.open(plain) as ref:
        assert dst.profile["tiled"] and dst.block_shapes == [(128, 128)] and dst.overviews(1) == [2, 4]
        assert dst.crs == ref.crs and np.array_equal(dst.read(1), ref.read(1))


def test_band_selection_reads_the_named_bands_in_order(tmp_path, scene, net):
    four = np.concatenate([np.moveaxis(scene, -1, 0), scene[None, ..., 0] | 1])  # a GTiff 4th band may be alpha
    path = tmp_path / "four.tif"
    _write_raster(path, four)  # no nodata: nothing is void
    expected = semanticseg_tiled(np.ascontiguousarray(scene[..., ::-1]), net, **TILED)
    assert np.array_equal(semanticseg_tiled(path, net, bands="3,2,1", **TILED), expected)
    assert np.array_equal(semanticseg_tiled(path, net, bands=(3, 2, 1), **TILED), expected)
    assert np.array_equal(semanticseg_tiled(path, net, **TILED), semanticseg_tiled(scene, net, **TILED))  # first 3
    with pytest.raises(DataError, match=r"four.tif has 4 band\(s\).*band 5"):
        semanticseg_tiled(path, net, bands=(1, 2, 5), **TILED)
    with pytest.raises(ConfigurationError, match="bands must be band numbers"):
        semanticseg_tiled(path, net, bands="0,1,2", **TILED)
    with pytest.raises(ConfigurationError, match="slice an array"):
        semanticseg_tiled(scene, net, bands=(1, 2, 3), **TILED)


def test_an_internal_mask_is_void(tmp_path, scene, net):
    path = tmp_path / "masked.tif"
    mask = np.full(scene.shape[:2], 255, np.uint8)
    mask[100:120, 200:260] = 0
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        _write_raster(path, np.moveaxis(scene, -1, 0))
        with rasterio.open(path, "r+") as dst:
            dst.write_mask(mask)
    labels = semanticseg_tiled(path, net, **TILED)
    assert np.all(labels[100:120, 200:260] == 255)
    assert np.array_equal(labels[mask > 0], semanticseg_tiled(scene, net, **TILED)[mask > 0])


def test_a_tiff_without_crs_takes_the_tifffile_path(tmp_path, scene, net):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, scene, tile=(64, 64))
    assert not geo.reads_with_rasterio(path)
    out = semanticseg_tiled(path, net, tmp_path / "labels.tif", **TILED)
    with tifffile.TiffFile(out) as tif:
        assert not tif.pages[0].is_geotiff and tif.pages[0].photometric == 3


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # opening the result here
def test_an_array_can_be_written_as_a_cog_without_georeferencing(scene, net, tmp_path):
    out = semanticseg_tiled(scene, net, tmp_path / "labels.tif", cog=True, tiff_tile=128, **TILED)
    with rasterio.open(out) as dst:
        assert dst.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and dst.crs is None and dst.nodata == 255
        assert np.array_equal(dst.read(1), semanticseg_tiled(scene, net, **TILED))


def test_cog_needs_a_tif_output(geotiff, net, tmp_path):
    with pytest.raises(ConfigurationError, match=r"cog=True writes a \.tif file"):
        semanticseg_tiled(geotiff, net, tmp_path / "labels.png", cog=True, **TILED)
    with pytest.raises(ConfigurationError, match=r"cog=True writes a \.tif file"):
        semanticseg_tiled(geotiff, net, cog=True, **TILED)


def test_without_rasterio_a_geotiff_is_labelled_with_a_warning(geotiff, net, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rasterio", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = semanticseg_tiled(geotiff, net, tmp_path / "labels.tif", **TILED)
    messages = [str(w.message) for w in caught]
    assert any("scene.tif is a GeoTIFF" in m and 'pip install "pixelseg[geo]" keeps them' in m for m in messages)
    with tifffile.TiffFile(out) as tif:
        assert not tif.pages[0].is_geotiff


# --------------------------------------------------------------------------- pixelseg predict
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from pixelseg.checkpoint import TrainedNetwork
    from pixelseg.data import ClassSet
    from pixelseg.models import segnet

    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    torch.manual_seed(0)
    classes = ClassSet(["water", "land", "road", "roof"], colors=[[0, 0, 255], [0, 128, 0], [128, 128, 128], [200, 0, 0]])
    TrainedNetwork(network=segnet(num_classes=4, encoder_depth=1).eval(), class_set=classes).save(path)
    return path


def test_predict_keeps_georeferencing_and_writes_a_cog_on_request(checkpoint, geotiff, tmp_path, capsys):
    from pixelseg.checkpoint import load_network

    base = ["predict", str(checkpoint), str(geotiff), "--tile-size", "128", "--device", "cpu"]
    code, err = _predict([*base, "--out", str(tmp_path / "out"), "--overlay"], capsys)
    assert code == 0, err
    with rasterio.open(tmp_path / "out" / "pred_scene.tif") as dst:
        assert dst.crs == rasterio.crs.CRS.from_string(CRS) and dst.transform == TRANSFORM
        colors = load_network(checkpoint).class_set.colors
        assert [dst.colormap(1)[k][:3] for k in range(4)] == [tuple(int(v) for v in c) for c in colors]
        assert dst.read(1)[0, 0] == 255
    assert (tmp_path / "out" / "overlays" / "scene.png").is_file()
    code, err = _predict([*base, "--out", str(tmp_path / "cog"), "--cog"], capsys)
    assert code == 0, err
    with rasterio.open(tmp_path / "cog" / "pred_scene.tif") as dst:
        assert dst.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and dst.crs is not None


def test_predict_cog_without_tile_size_is_one_sentence(checkpoint, geotiff, tmp_path, capsys):
    code, err = _predict(["predict", str(checkpoint), str(geotiff), "--out", str(tmp_path / "o"), "--cog"], capsys)
    assert code == 2 and "--cog and --bands apply to tiled inference; add --tile-size" in err
    assert "Traceback" not in err


def _predict(args, capsys) -> tuple[int, str]:
    """(exit code, stderr) of ``pixelseg`` run in this process."""
    code, _, err = run_main(args, capsys)
    return code, err
