"""`pixelseg predict`: label PNGs, overlays, tiled TIFFs, and one-sentence errors."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from pixelseg.checkpoint import TrainedNetwork
from pixelseg.data import ClassSet
from pixelseg.inference import semanticseg, semanticseg_tiled
from pixelseg.models import segnet
from tests.inference.cli import run_main

CLASSES = ClassSet(["sky", "road", "car"], colors=[[128, 128, 128], [128, 64, 128], [64, 0, 128]])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    net = segnet(num_classes=3, encoder_depth=1).eval()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    TrainedNetwork(network=net, class_set=CLASSES).save(path)
    return path


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    arrays = {}
    for name in ("b", "a"):
        arrays[name] = rng.integers(0, 256, (20, 28, 3), dtype=np.uint8)
        Image.fromarray(arrays[name]).save(folder / f"{name}.png")
    return folder, arrays


def test_predict_folder_with_overlays(checkpoint, images, tmp_path, capsys):
    from pixelseg.checkpoint import load_network

    folder, arrays = images
    out = tmp_path / "out"
    code, stdout, err = run_main(["predict", str(checkpoint), str(folder), "--out", str(out), "--overlay", "--device", "cpu"], capsys)
    assert code == 0, err
    assert "labelled 2 image(s)" in err and "labelled" not in stdout  # status lines: the logger, on stderr
    code, stdout, err = run_main(["--quiet", "predict", str(checkpoint), str(folder), "--out", str(tmp_path / "quiet"),
                              "--device", "cpu"], capsys)
    assert code == 0 and "labelled" not in stdout + err  # -q: warnings and errors only
    assert len(list((tmp_path / "quiet").glob("*.png"))) == 2
    net = load_network(checkpoint)
    for name, image in arrays.items():
        with Image.open(out / f"pred_{name}.png") as png:
            assert png.mode == "P" and png.getpalette()[3:6] == [128, 64, 128]
            assert np.array_equal(np.asarray(png), semanticseg(image, net, device="cpu"))
        with Image.open(out / "overlays" / f"{name}.png") as picture:  # title above, legend below
            assert picture.height > image.shape[0] and picture.width >= image.shape[1]


def test_predict_tiled_tiff(checkpoint, tmp_path, capsys):
    from pixelseg.checkpoint import load_network

    image = np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8)
    src = tmp_path / "scene.tif"
    tifffile.imwrite(src, image, tile=(16, 16))
    out = tmp_path / "out"
    code, _, err = run_main(["predict", str(checkpoint), str(src), "--out", str(out), "--tile-size", "32", "--overlap", "8", "--device", "cpu"], capsys)
    assert code == 0, err
    expected = semanticseg_tiled(image, load_network(checkpoint), tile_size=32, overlap=8, device="cpu", progress=False)
    assert np.array_equal(tifffile.imread(out / "pred_scene.tif"), expected)


def test_not_a_checkpoint_is_one_sentence(tmp_path, images, capsys):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a checkpoint at all")
    code, _, err = run_main(["predict", str(bogus), str(images[0]), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "bogus.pt" in err and "pixelseg" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_output_folder_that_is_a_file(checkpoint, images, tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("x")
    code, _, err = run_main(["predict", str(checkpoint), str(images[0]), "--out", str(target)], capsys)
    assert code == 2 and "taken is a file, not a folder" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("option,value,kwargs,bad,message", [
    ("--tta-scales", "0.75,1,1.5", {"tta": (0.75, 1.0, 1.5)}, "1,-2", "--tta-scales must be positive numbers up to 4"),
    ("--input-size", "10x14", {"input_size": (10, 14)}, "10", "--input-size must look like HxW"),
])
def test_predict_option_matches_semanticseg(checkpoint, images, tmp_path, capsys, option, value, kwargs, bad, message):
    from pixelseg.checkpoint import load_network

    folder, arrays = images
    out = tmp_path / "out"
    code, _, err = run_main(["predict", str(checkpoint), str(folder), "--out", str(out), option, value,
                         "--device", "cpu"], capsys)
    assert code == 0, err
    net = load_network(checkpoint)
    for name, image in arrays.items():
        labels = np.asarray(Image.open(out / f"pred_{name}.png"))
        assert labels.shape == image.shape[:2]
        assert np.array_equal(labels, semanticseg(image, net, device="cpu", **kwargs))
    code, _, err = run_main(["predict", str(checkpoint), str(folder), "--out", str(tmp_path / "o2"), option, bad], capsys)
    assert code == 2 and message in err and repr(bad) in err


@pytest.mark.parametrize("args,message", [
    (["--tta-scales", "1,inf"], "--tta-scales must be positive numbers up to 4"),
    (["--input-size", "10x14", "--tile-size", "32"], "--input-size cannot be combined with --tile-size"),
])
def test_option_conflicts_and_bad_values_are_one_sentence(checkpoint, images, tmp_path, capsys, args, message):
    code, _, err = run_main(["predict", str(checkpoint), str(images[0]), "--out", str(tmp_path / "o"), *args], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_outputs_are_planned_before_anything_is_written(checkpoint, tmp_path, capsys):
    """Reported from a break-it session: with --tile-size, x/img.png and y/img.png both went
    to pred_img.png (the second replaced the first); with --prefix "" and --out the input
    folder, the input photo was replaced by its label map; an existing overlay was found
    only after the labelling."""
    image = np.random.default_rng(2).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        Image.fromarray(image).save(tmp_path / sub / "img.png")
    x, y, out = tmp_path / "x" / "img.png", tmp_path / "y" / "img.png", tmp_path / "out"
    code, _, err = run_main(["predict", str(checkpoint), str(x), str(y), "--out", str(out), "--tile-size", "16",
                         "--overwrite", "--device", "cpu"], capsys)
    assert code == 2 and "would both be written to" in err and "img.png" in err
    assert not list(out.glob("*.png"))  # nothing written
    for tiled in ([], ["--tile-size", "16"]):
        code, _, err = run_main(["predict", str(checkpoint), str(x), "--out", str(x.parent), "--prefix", "",
                             "--overwrite", "--device", "cpu", *tiled], capsys)
        assert code == 2 and "would replace the input" in err
        with Image.open(x) as png:
            assert png.mode == "RGB"  # the photo is intact
    (out / "overlays").mkdir(parents=True)
    (out / "overlays" / "img.png").write_bytes(b"mine")
    for tiled in ([], ["--tile-size", "16"]):
        code, _, err = run_main(["predict", str(checkpoint), str(x), "--out", str(out), "--overlay", "--device", "cpu",
                             *tiled], capsys)
        assert code == 2 and "exist already" in err
        assert not (out / "pred_img.png").exists()  # found before labelling
    assert (out / "overlays" / "img.png").read_bytes() == b"mine"


def test_tile_batch_default_holds_about_a_megapixel():
    """8 tiles of 1024 (the whole-image default batch) peaked at 3.5 GB with the demo network."""
    from pixelseg.workflow.predict import tile_batch_size

    assert [tile_batch_size(t) for t in (256, 512, 700, 1024, 4096)] == [16, 4, 2, 1, 1]


def test_tiles_of_a_network_trained_on_resized_images_are_warned_about(tmp_path, capsys):
    """camvid-fast was trained at 216 x 288: tiled inference labels tiles at the image's own
    scale, which the user is told instead of getting a silently worse map."""
    torch.manual_seed(0)
    path = tmp_path / "resized.pt"
    TrainedNetwork(network=segnet(num_classes=3, encoder_depth=1).eval(), class_set=CLASSES,
                   inference_size=(16, 20)).save(path)
    src = tmp_path / "scene.tif"
    tifffile.imwrite(src, np.zeros((40, 52, 3), dtype=np.uint8), tile=(16, 16))
    code, _, err = run_main(["predict", str(path), str(src), "--out", str(tmp_path / "out"), "--tile-size", "32",
                             "--device", "cpu"], capsys)
    assert code == 0, err
    assert "the network was trained on images resized to 16x20, but tiles are labelled at the image's own" in err
