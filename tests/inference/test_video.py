"""Video inference: ``segment_video`` streams a video's label maps, ``semanticseg`` on a video
path returns the same generator, ``write_video_labels`` writes a video of the same frame rate
and size (and per-frame label PNGs), atomically, never over a user file unasked.

The videos are written by the tests with PyAV (``videos.py``): 6 frames of 48 x 32 at 10 fps.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import segment_video, semanticseg, write_video_labels
from pixelseg.inference.video import video_info

from .conftest import DominantChannel, TinyConvNet
from .videos import FPS, FRAMES, HEIGHT, WIDTH, decode, moving_blocks, write_test_video

av = pytest.importorskip("av")


@pytest.fixture
def video(tmp_path):
    """A 6-frame video of blocks of saturated colours that move one step per frame."""
    return moving_blocks(tmp_path / "drive.mp4")


class BatchRecorder(TinyConvNet):
    """TinyConvNet that records the batch size of every forward pass."""

    def __init__(self):
        super().__init__()
        self.batches: list[int] = []

    def forward(self, x):
        self.batches.append(int(x.shape[0]))
        return super().forward(x)


def test_label_maps_equal_semanticseg_on_the_decoded_frames(video):
    net = TinyConvNet()
    labels = list(segment_video(video, net, mini_batch_size=4, device="cpu", progress=False))
    expected = semanticseg(decode(video), net, mini_batch_size=4, device="cpu")
    assert len(labels) == FRAMES
    assert all(m.shape == (HEIGHT, WIDTH) and m.dtype == np.uint8 for m in labels)
    for got, want in zip(labels, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_frames_are_labelled_one_mini_batch_at_a_time(video):
    net = BatchRecorder()
    frames = segment_video(video, net, mini_batch_size=4, device="cpu", progress=False)
    assert net.batches == []  # nothing decoded before the first next()
    next(frames)
    assert net.batches == [4]
    rest = list(frames)
    assert len(rest) == FRAMES - 1 and net.batches == [4, 2]


def test_semanticseg_on_a_video_path_yields_what_one_image_returns(video):
    net = DominantChannel()
    results = semanticseg(str(video), net, device="cpu", return_scores=True, progress=False)
    assert not isinstance(results, (list, tuple))  # a generator, not a list held in memory
    results = list(results)
    frames = decode(video)
    assert len(results) == FRAMES
    for frame, (labels, scores) in zip(frames, results, strict=True):
        np.testing.assert_array_equal(labels, semanticseg(frame, net, device="cpu"))
        assert scores.shape == (HEIGHT, WIDTH) and scores.dtype == np.float32


def test_return_frames_and_a_region_of_interest(video):
    got = list(segment_video(video, DominantChannel(), device="cpu", roi=(8, 4, 20, 10), return_frames=True,
                             all_scores=True, progress=False))
    frame, labels, all_scores = got[0]
    np.testing.assert_array_equal(frame, decode(video)[0])
    assert all_scores.shape == (3, HEIGHT, WIDTH)
    outside = np.ones((HEIGHT, WIDTH), bool)
    outside[4:14, 8:28] = False
    assert (labels[outside] == 255).all() and (labels[~outside] < 3).all()
    assert (all_scores[:, outside] == 0).all()


def test_video_info_reports_rate_size_and_count(video):
    info = video_info(video)
    assert (info.fps, info.width, info.height, info.frames) == (Fraction(FPS), WIDTH, HEIGHT, FRAMES)


@pytest.mark.parametrize("overlay", [False, True])
def test_write_video_labels_keeps_rate_size_and_frame_count(video, tmp_path, overlay):
    net = TinyConvNet()
    out = tmp_path / "labels.mp4"
    written = write_video_labels(video, net, out, overlay=overlay, label_maps_dir=tmp_path / "maps", device="cpu",
                                 progress=False)
    assert (written.path, written.frames, written.fps, written.width, written.height) == (
        out, FRAMES, Fraction(FPS), WIDTH, HEIGHT)
    info = video_info(out)
    assert (info.fps, info.width, info.height) == (Fraction(FPS), WIDTH, HEIGHT)
    assert len(decode(out)) == FRAMES
    maps = sorted((tmp_path / "maps").iterdir())
    assert [m.name for m in maps] == [f"drive_{i:06d}.png" for i in range(FRAMES)]
    expected = list(segment_video(video, net, device="cpu", progress=False))
    for path, want in zip(maps, expected, strict=True):
        with Image.open(path) as png:
            assert png.mode == "P"
            np.testing.assert_array_equal(np.asarray(png), want)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.mp4", "labels.mp4", "maps"]  # no temp file left


def test_a_lossless_video_holds_exactly_the_class_colours(video, tmp_path):
    from pixelseg.data import ClassSet

    classes = ClassSet(["r", "g", "b"], colors=[[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    out = tmp_path / "labels.mkv"
    write_video_labels(video, DominantChannel(), out, class_set=classes, codec="ffv1", device="cpu", progress=False)
    labels = list(segment_video(video, DominantChannel(), device="cpu", progress=False))
    for picture, want in zip(decode(out), labels, strict=True):
        np.testing.assert_array_equal(picture, classes.colorize(want))


def test_an_odd_frame_size_is_kept(tmp_path):
    path = tmp_path / "odd.mp4"
    write_test_video(path, [np.full((33, 47, 3), 40 * i, np.uint8) for i in range(3)], pix_fmt="yuv444p"
                     if "libx264" in av.codecs_available else "yuv420p")
    written = write_video_labels(path, TinyConvNet(), tmp_path / "odd_labels.mp4", device="cpu", progress=False)
    assert (written.width, written.height) == (47, 33)
    assert decode(tmp_path / "odd_labels.mp4")[0].shape == (33, 47, 3)


def test_existing_outputs_are_refused_before_any_frame_is_decoded(video, tmp_path):
    out = tmp_path / "labels.mp4"
    out.write_bytes(b"user file")
    net = BatchRecorder()
    with pytest.raises(FileExistsError, match=r"labels\.mp4; pass overwrite=True"):
        write_video_labels(video, net, out, device="cpu", progress=False)
    assert out.read_bytes() == b"user file" and net.batches == []
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "drive_000003.png").write_bytes(b"user file")
    with pytest.raises(FileExistsError, match="1 label map"):
        write_video_labels(video, net, tmp_path / "other.mp4", label_maps_dir=maps, device="cpu", progress=False)
    assert net.batches == [] and not (tmp_path / "other.mp4").exists()
    written = write_video_labels(video, net, out, label_maps_dir=maps, overwrite=True, device="cpu", progress=False)
    assert written.frames == FRAMES and out.read_bytes() != b"user file"
    assert len(list(maps.iterdir())) == FRAMES


@pytest.mark.parametrize("target, message", [
    ("drive.mp4", "would replace the input"),
    ("labels.gif", "must end in one of .mp4"),
])
def test_bad_output_paths_are_one_clear_error(video, tmp_path, target, message):
    with pytest.raises(ConfigurationError, match=message):
        write_video_labels(video, TinyConvNet(), tmp_path / target, overwrite=True, device="cpu", progress=False)


def test_an_unreadable_video_names_the_file_and_leaves_nothing(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(DataError, match=r"broken\.mp4 cannot be read as a video"):
        segment_video(bad, TinyConvNet(), device="cpu")
    with pytest.raises(DataError, match=r"broken\.mp4"):
        write_video_labels(bad, TinyConvNet(), tmp_path / "out.mp4", device="cpu", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4"]


def test_a_missing_video_and_bad_options(video, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.mp4 does not exist"):
        segment_video(tmp_path / "nothing.mp4", TinyConvNet())
    with pytest.raises(ConfigurationError, match="mini_batch_size"):
        segment_video(video, TinyConvNet(), mini_batch_size=0)
    with pytest.raises(ConfigurationError, match="write_video_labels"):
        semanticseg(video, TinyConvNet(), write_location=tmp_path / "out")
    with pytest.raises(ConfigurationError, match="engine='ray' does not apply to a video"):
        semanticseg(video, TinyConvNet(), write_location=tmp_path / "out", engine="ray")
    with pytest.raises(ConfigurationError, match="no bogus encoder"):
        write_video_labels(video, TinyConvNet(), tmp_path / "x.mp4", codec="bogus", device="cpu", progress=False)
    with pytest.raises(ConfigurationError, match="takes 4 channels"):
        segment_video(video, TinyConvNet(in_channels=4), device="cpu")


class FailsOnSecondBatch(BatchRecorder):
    def forward(self, x):
        if self.batches:
            raise RuntimeError("out of memory on the second batch")
        return super().forward(x)


def test_a_run_that_fails_midway_leaves_no_partial_video(video, tmp_path):
    out = tmp_path / "labels.mp4"
    with pytest.raises(RuntimeError, match="second batch"):
        write_video_labels(video, FailsOnSecondBatch(), out, mini_batch_size=2, device="cpu", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.mp4"]


def test_bad_label_map_options(video, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigurationError, match="is a file, not a folder"):
        write_video_labels(video, TinyConvNet(), tmp_path / "a.mp4", label_maps_dir=tmp_path / "file", device="cpu")
    with pytest.raises(ConfigurationError, match="without folders"):
        write_video_labels(video, TinyConvNet(), tmp_path / "a.mp4", label_maps_dir=tmp_path / "maps",
                           name_prefix="x/y", device="cpu")
    with pytest.raises(ConfigurationError, match="transparency"):
        write_video_labels(video, TinyConvNet(), tmp_path / "a.mp4", overlay=True, transparency="half", device="cpu")
    assert not (tmp_path / "a.mp4").exists()
