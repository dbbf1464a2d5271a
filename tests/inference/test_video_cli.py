"""`pixelseg predict CHECKPOINT video.mp4 --out labels.mp4 [--overlay] [--label-maps DIR]`."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import pixelseg
from pixelseg.checkpoint import TrainedNetwork, load_network
from pixelseg.data import ClassSet
from pixelseg.inference import segment_video
from pixelseg.inference.video import video_info
from pixelseg.models import segnet
from tests.inference.cli import run_main

from .videos import FPS, FRAMES, HEIGHT, WIDTH, decode, moving_blocks

pytest.importorskip("av")

CLASSES = ClassSet(["sky", "road", "car"], colors=[[128, 128, 128], [128, 64, 128], [64, 0, 128]])
VIDEO_HINT = ('video inference (segment_video, pixelseg predict VIDEO) needs the "video" extra (av is not '
              'installed): pip install "pixelseg[video]"')


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    TrainedNetwork(network=segnet(num_classes=3, encoder_depth=1).eval(), class_set=CLASSES).save(path)
    return path


@pytest.fixture
def video(tmp_path):
    return moving_blocks(tmp_path / "drive.mp4")


def _subprocess(args, env_extra: dict | None = None, block_av: Path | None = None):
    """``python -m pixelseg ARGS`` on this checkout; with ``block_av`` (a folder), PyAV cannot be imported."""
    paths = [str(Path(pixelseg.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
    if block_av is not None:
        block_av.mkdir()
        (block_av / "sitecustomize.py").write_text("import sys\nsys.modules['av'] = None\n")
        paths.insert(0, str(block_av))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    return subprocess.run([sys.executable, "-m", "pixelseg", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def test_predict_a_video_writes_a_video_and_label_maps(checkpoint, video, tmp_path):
    out, maps = tmp_path / "out" / "labels.mp4", tmp_path / "maps"
    result = _subprocess(["predict", str(checkpoint), str(video), "--out", str(out), "--overlay",
                          "--label-maps", str(maps), "--device", "cpu"])
    assert result.returncode == 0, result.stderr
    assert f"labelled {FRAMES} frame(s) of {video} into {out} ({WIDTH} x {HEIGHT}, {FPS} frames/s, 3 classes)" \
        in result.stderr
    info = video_info(out)
    assert (info.fps, info.width, info.height) == (Fraction(FPS), WIDTH, HEIGHT)
    assert len(decode(out)) == FRAMES
    names = sorted(p.name for p in maps.iterdir())
    assert names == [f"pred_drive_{i:06d}.png" for i in range(FRAMES)]
    expected = list(segment_video(video, load_network(checkpoint), device="cpu", progress=False))
    for name, want in zip(names, expected, strict=True):
        np.testing.assert_array_equal(np.asarray(Image.open(maps / name)), want)


def test_predict_a_video_without_pyav_prints_the_install_command(checkpoint, video, tmp_path):
    result = _subprocess(["predict", str(checkpoint), str(video), "--out", str(tmp_path / "labels.mp4")],
                         block_av=tmp_path / "block")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {VIDEO_HINT}"
    assert not (tmp_path / "labels.mp4").exists()


@pytest.mark.parametrize("extra, message", [
    (["--out", "{tmp}/labels"], "with a video input, --out is the output video"),
    (["--out", "{tmp}/labels.mp4", "--tile-size", "64"], "--tile-size does not apply to a video"),
    (["{tmp}/other.png", "--out", "{tmp}/labels.mp4"], "label one video per command"),
    (["--out", "{tmp}/labels.mp4", "--ray", "local"], "--ray does not apply to a video"),
])
def test_video_usage_errors_are_one_sentence(checkpoint, video, tmp_path, capsys, extra, message):
    code, err = _run(["predict", str(checkpoint), str(video), *[a.format(tmp=tmp_path) for a in extra]], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.mp4"]


def test_label_maps_without_a_video_is_refused(checkpoint, tmp_path, capsys):
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
    code, err = _run(["predict", str(checkpoint), str(image), "--out", str(tmp_path / "out"), "--label-maps",
                      str(tmp_path / "maps")], capsys)
    assert code == 2 and "--label-maps applies to a video input" in err


def _run(args, capsys) -> tuple[int, str]:
    """(exit code, stderr) of ``pixelseg`` run in this process."""
    code, _, err = run_main(args, capsys)
    return code, err
