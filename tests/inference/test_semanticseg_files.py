"""semanticseg on folders, globs and datastores: palette PNGs, PixelLabelDatastore, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet, ImageDatastore, PixelLabelDatastore
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import default_colormap, semanticseg

from .conftest import expected_dominant


@pytest.fixture
def folder(tmp_path, rgb_images):
    src = tmp_path / "images"
    src.mkdir()
    for name, image in zip(["img_10", "img_2", "img_1"], rgb_images):
        Image.fromarray(image).save(src / f"{name}.png")
    return src


def _by_stem(folder, rgb_images):
    return dict(zip(["img_10", "img_2", "img_1"], rgb_images))


def test_folder_writes_palette_pngs_and_returns_datastore(folder, rgb_images, dominant_net, tmp_path):
    out = tmp_path / "out"
    pxds = semanticseg(folder, dominant_net, write_location=out, device="cpu", progress=False,
                       num_workers=0)
    assert isinstance(pxds, PixelLabelDatastore)
    assert [p.name for p in pxds.files] == ["pred_img_1.png", "pred_img_2.png", "pred_img_10.png"]
    images = _by_stem(folder, rgb_images)
    for i, path in enumerate(pxds.files):
        with Image.open(path) as png:
            assert png.mode == "P"
            palette = np.array(png.getpalette()[:9]).reshape(3, 3)
        assert np.array_equal(palette, default_colormap(3))
        stem = path.stem.removeprefix("pred_")
        assert np.array_equal(pxds.read(i), expected_dominant(images[stem]))


def test_class_set_palette_and_workers(folder, dominant_net, tmp_path):
    classes = ClassSet(["red", "green", "blue"], colors=[[200, 0, 0], [0, 200, 0], [0, 0, 200]])
    pxds = semanticseg(ImageDatastore(folder), dominant_net, write_location=tmp_path / "o",
                       name_prefix="", class_set=classes, device="cpu", progress=False,
                       num_workers=1, mini_batch_size=2)
    assert pxds.class_set == classes
    assert [p.name for p in pxds.files] == ["img_1.png", "img_2.png", "img_10.png"]
    with Image.open(pxds.files[0]) as png:
        assert png.getpalette()[:6] == [200, 0, 0, 0, 200, 0]


def test_existing_outputs_are_not_overwritten(folder, dominant_net, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "pred_img_2.png").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="pred_img_2.png.*overwrite=True"):
        semanticseg(folder, dominant_net, write_location=out, device="cpu", progress=False)
    assert (out / "pred_img_2.png").read_bytes() == b"mine"
    assert not (out / "pred_img_1.png").exists()  # refused before any work
    pxds = semanticseg(folder, dominant_net, write_location=out, device="cpu", progress=False,
                       overwrite=True)
    assert len(pxds) == 3 and pxds.read(1).shape == (12, 16)


def test_write_location_that_is_a_file(folder, dominant_net, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(ConfigurationError, match="file.txt is a file"):
        semanticseg(folder, dominant_net, write_location=target, device="cpu", progress=False)


def test_unreadable_image_skipped_or_raised(folder, dominant_net, tmp_path):
    (folder / "img_5.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="img_5.png"):
        semanticseg(folder, dominant_net, write_location=tmp_path / "a", device="cpu", progress=False)
    with pytest.warns(UserWarning, match=r"skipped 1 of 4.*img_5.png"):
        pxds = semanticseg(folder, dominant_net, write_location=tmp_path / "b", device="cpu",
                           progress=False, on_error="skip", num_workers=1)
    assert [p.name for p in pxds.files] == ["pred_img_1.png", "pred_img_2.png", "pred_img_10.png"]
    with pytest.warns(UserWarning, match="skipped 1 of 4"):  # in memory: entry i is file i
        labels, scores = semanticseg(folder, dominant_net, return_scores=True, progress=False, on_error="skip")
    assert [x is None for x in labels] == [False, False, True, False]  # img_1, img_2, img_5, img_10
    assert scores[2] is None and scores[3].shape == labels[3].shape


def test_glob_and_list_without_write_location(folder, rgb_images, dominant_net):
    labels = semanticseg(str(folder / "img_1*.png"), dominant_net, device="cpu", progress=False)
    images = _by_stem(folder, rgb_images)
    assert len(labels) == 2  # img_1, img_10 in natural order
    assert np.array_equal(labels[0], expected_dominant(images["img_1"]))
    assert np.array_equal(labels[1], expected_dominant(images["img_10"]))
    labels, scores = semanticseg([folder / "img_2.png"], dominant_net, return_scores=True,
                                 device="cpu", progress=False)
    assert scores[0].shape == (12, 16) and np.all(scores[0] > 0.3)


def test_one_file_path_gives_one_label_map(folder, rgb_images, dominant_net):
    labels = semanticseg(folder / "img_2.png", dominant_net, device="cpu")
    assert np.array_equal(labels, expected_dominant(_by_stem(folder, rgb_images)["img_2"]))


def test_duplicate_stems_refused(tmp_path, rgb_images, dominant_net):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        Image.fromarray(rgb_images[0]).save(tmp_path / sub / "x.png")
    with pytest.raises(ConfigurationError, match="both be written"):
        semanticseg([tmp_path / "a" / "x.png", tmp_path / "b" / "x.png"], dominant_net,
                    write_location=tmp_path / "out", device="cpu", progress=False)


def test_missing_path_and_scores_with_write_location(dominant_net, tmp_path, folder):
    with pytest.raises(DataError, match="nowhere"):
        semanticseg(tmp_path / "nowhere", dominant_net, device="cpu")
    with pytest.raises(ConfigurationError, match="return_scores"):
        semanticseg(folder, dominant_net, write_location=tmp_path / "o", return_scores=True)


def test_decompression_bomb_points_to_tiled_inference(tmp_path, dominant_net, monkeypatch, rgb_images):
    from PIL import Image as PILImage

    path = tmp_path / "huge.png"
    PILImage.fromarray(rgb_images[0]).save(path)  # 12 x 16 = 192 px
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 50)  # > 2x the limit: an error, not a warning
    with pytest.raises(DataError, match="huge.png.*tiled"):
        semanticseg(path, dominant_net, device="cpu")


def test_one_channel_network_reads_grey_files(tmp_path):
    from .conftest import TinyConvNet

    net = TinyConvNet(in_channels=1, num_classes=2).eval()
    grey = np.random.default_rng(2).integers(0, 256, (10, 12), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "g.png")
    from_file = semanticseg(tmp_path / "g.png", net, device="cpu")
    assert np.array_equal(from_file, semanticseg(grey, net, device="cpu"))
    Image.fromarray(np.dstack([grey] * 3)).save(tmp_path / "rgb.png")
    with pytest.raises(DataError, match="rgb.png.*3 channels"):
        semanticseg([tmp_path / "rgb.png", tmp_path / "g.png"], net, device="cpu", progress=False)


def test_output_that_would_replace_an_input_is_refused_even_with_overwrite(folder, dominant_net):
    with pytest.raises(ConfigurationError, match="would replace the input"):
        semanticseg(folder, dominant_net, write_location=folder, name_prefix="", overwrite=True, progress=False)
    with Image.open(folder / "img_1.png") as png:
        assert png.mode == "RGB"


def test_float_file_with_nan_or_out_of_range_values_is_named(folder, dominant_net, tmp_path):
    """Reported from a break-it session: NaN in a float TIFF was labelled silently, and
    values in [0, 255] gave an error that named no file."""
    import tifffile

    bad = np.full((8, 8, 3), 0.5, np.float32)
    bad[0, 0, 0] = np.nan
    tifffile.imwrite(folder / "nan.tif", bad, photometric="rgb")
    tifffile.imwrite(folder / "wide.tif", np.full((8, 8, 3), 200.0, np.float32), photometric="rgb")
    with pytest.raises(DataError, match=r"nan\.tif has 1 NaN"):
        semanticseg(folder, dominant_net, write_location=tmp_path / "o1", progress=False)
    with pytest.warns(UserWarning, match=r"skipped 2 of 5") as record:
        pxds = semanticseg(folder, dominant_net, write_location=tmp_path / "o2", on_error="skip", progress=False)
    assert "wide.tif is a float image with values in [200, 200]" in str(record[0].message)
    assert len(pxds.files) == 3


@pytest.mark.parametrize("label_ids, void_ids", [([0, 255], []), ([10, 20], [0]),
                                                 ([(0, 0, 0), (255, 255, 255)], [])])
def test_returned_datastore_reads_back_the_written_indices(folder, tmp_path, label_ids, void_ids):
    """The training labels' raw IDs (0/255 crack masks, 10/20, colours) are not what the
    written PNGs hold: the datastore must read class indices back, never void or the wrong class."""
    import torch

    class TwoClass(torch.nn.Module):  # class 1 where red > green, else class 0
        def forward(self, x):
            diff = x[:, :1] - x[:, 1:2]
            return torch.cat([-diff, diff], 1) * 10

    classes = ClassSet(["background", "crack"], label_ids, void_ids=void_ids)
    pxds = semanticseg(folder, TwoClass(), write_location=tmp_path / "o", class_set=classes,
                       device="cpu", progress=False, num_workers=0)
    for i, path in enumerate(pxds.files):
        labels = pxds.read(i)
        written = np.asarray(Image.open(path))
        assert np.array_equal(labels, written)
    from pixelseg.data import count_each_label

    counts = count_each_label(pxds)
    assert counts["pixel_count"].sum() == sum(np.asarray(Image.open(p)).size for p in pxds.files)
