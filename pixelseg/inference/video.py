"""Video: label every frame of a video file, streamed, with PyAV (the ``video`` extra).

:func:`segment_video` decodes a video frame by frame, runs the frames through the network in
mini-batches exactly as :func:`~pixelseg.inference.semanticseg` runs a list of images, and
yields one label map per frame: memory stays that of one mini-batch, whatever the video's
length. ``semanticseg("drive.mp4", net)`` returns the same generator.
:func:`~pixelseg.inference.video_writer.write_video_labels` writes the result as a video.

Frames are decoded to H x W x 3 uint8 RGB (H x W x 1 for a one-channel network) by FFmpeg's
converter; the audio and subtitle streams are not read. PyAV is imported only when a video is
opened, so the module imports without the extra.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference.predictor import Predictor
from pixelseg.inference.roi import RegionsOfInterest
from pixelseg.inference.sources import VIDEO_SUFFIXES, is_video_path
from pixelseg.utils.extras import require

__all__ = ["VideoInfo", "segment_video", "video_info"]

_FEATURE = "video inference (segment_video, pixelseg predict VIDEO)"
#: Frame rate assumed when a video declares none (FFmpeg's own default).
DEFAULT_FPS = Fraction(25)


def _av():
    return require("av", "video", _FEATURE)


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What a video file declares about its first video stream.

    Attributes:
        path: the file.
        fps: frames per second (the stream's average rate, else FFmpeg's guess, else
            :data:`DEFAULT_FPS`), a ``Fraction`` (30000/1001 for NTSC).
        width, height: frame size in pixels.
        frames: the frame count the container declares, or None when it declares none (the
            count of WebM and Matroska files is only known after decoding).
        codec: the decoder's name (``h264``, ``mpeg4``, ``vp9``...).
    """

    path: Path
    fps: Fraction
    width: int
    height: int
    frames: int | None
    codec: str


# ---------------------------------------------------------------------------- reading
def _check_video_path(path) -> Path:
    path = Path(path)
    if not is_video_path(path):
        raise ConfigurationError(f"{path} is not a video file (expected one of {', '.join(VIDEO_SUFFIXES)})")
    if not path.exists():
        raise FileNotFoundError(f"video {path} does not exist")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a video file")
    return path


@contextlib.contextmanager
def _open_video(path: Path):
    """(container, first video stream) of ``path``, closed on exit.

    Raises:
        DataError: FFmpeg cannot read the file, or it holds no video stream; names the file.
    """
    av = _av()
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise DataError(f"{path} cannot be read as a video ({exc.strerror or exc})") from None
    try:
        if not container.streams.video:
            raise DataError(f"{path} holds no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # FFmpeg decodes with its own threads, outside the GIL
        yield container, stream
    finally:
        container.close()


def _info(path: Path, stream) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate
    if not rate:
        warnings.warn(f"{path} declares no frame rate; assuming {DEFAULT_FPS} frames per second", UserWarning,
                      stacklevel=4)
    return VideoInfo(path, Fraction(rate or DEFAULT_FPS), int(stream.codec_context.width),
                     int(stream.codec_context.height), int(stream.frames) or None, stream.codec_context.name)


def video_info(path) -> VideoInfo:
    """The frame rate, size, declared frame count and codec of a video file.

    Raises:
        MissingExtraError: PyAV is not installed (``pip install "pixelseg[video]"``).
        FileNotFoundError: no such file. ConfigurationError: not a video suffix.
        DataError: FFmpeg cannot read the file, or it holds no video stream.
    """
    path = _check_video_path(path)
    with _open_video(path) as (_, stream):
        return _info(path, stream)


def _decoded(path: Path, container, stream, channels: int) -> Iterator[np.ndarray]:
    """The frames of ``stream`` as H x W x C uint8 (C = ``channels``, 1 or 3), in order."""
    av = _av()
    form = "gray" if channels == 1 else "rgb24"
    index = 0
    try:
        for frame in container.decode(stream):
            array = frame.to_ndarray(format=form)
            yield array[..., None] if array.ndim == 2 else array
            index += 1
    except av.FFmpegError as exc:
        raise DataError(f"{path}: frame {index} cannot be decoded ({exc.strerror or exc})") from None


class SameRegion(RegionsOfInterest):
    """One region for every frame, resolved once per frame size (a mask file is read once)."""

    def __init__(self, roi, name: str) -> None:
        super().__init__(roi, 1, [name])
        self._masks: dict[tuple, np.ndarray | None] = {}

    def mask(self, i: int, shape) -> np.ndarray | None:
        key = tuple(shape)
        if key not in self._masks:
            self._masks[key] = super().mask(0, shape)
        return self._masks[key]


# ---------------------------------------------------------------------------- labelling
def _check_batch_size(mini_batch_size) -> None:
    if not isinstance(mini_batch_size, int) or isinstance(mini_batch_size, bool) or mini_batch_size < 1:
        raise ConfigurationError(f"mini_batch_size must be a positive integer, got {mini_batch_size!r}")


def _frame_channels(predictor: Predictor, path: Path) -> int:
    channels = predictor.in_channels or 3
    if channels not in (1, 3):
        raise ConfigurationError(f"{path}: video frames are decoded as RGB (3 channels) or grey (1), but the network "
                                 f"takes {channels} channels")
    return channels


def _labelled_frames(path: Path, predictor: Predictor, mini_batch_size: int, need_scores: bool,
                     region, progress: bool) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """(frame H x W x C uint8, labels H x W uint8, scores K x H x W float32 or None) per
    frame, decoded and labelled one mini-batch at a time."""
    from tqdm.auto import tqdm

    from pixelseg.inference.batching import label_arrays as _label_arrays

    channels = _frame_channels(predictor, path)
    with predictor, _open_video(path) as (container, stream):
        total = int(stream.frames) or None
        with tqdm(total=total, disable=not progress, desc=path.name, unit="frame") as bar:
            batch: list[np.ndarray] = []
            frames = _decoded(path, container, stream, channels)
            while True:
                batch.clear()
                for frame in frames:
                    batch.append(frame)
                    if len(batch) == mini_batch_size:
                        break
                if not batch:
                    return
                results = _label_arrays(predictor, batch, mini_batch_size, need_scores, region)
                bar.update(len(batch))
                for frame, (labels, probs) in zip(batch, results):
                    yield frame, labels, probs


def segment_video(path, net, mini_batch_size: int = 4, return_scores: bool = False, all_scores: bool = False,
                  device="auto", tta=False, *, input_size="auto", roi=None, return_frames: bool = False,
                  progress: bool = True) -> Iterator:
    """Label every frame of a video, streamed: a generator of one result per frame, in order.

    Frames are decoded, gathered in mini-batches of ``mini_batch_size`` and labelled as
    :func:`~pixelseg.inference.semanticseg` labels a list of H x W x 3 uint8 images (the same
    network input, ``input_size`` resizing, TTA and region handling), so the label maps equal
    ``semanticseg(frames, net)`` on the decoded frames. Only one mini-batch of frames is held:
    memory does not grow with the video's length. The file, the extra and the options are
    checked when this function is called; decoding starts at the first ``next()``.

    Args:
        path: a video file (.mp4, .avi, .mov, .mkv or .webm; any codec FFmpeg decodes).
        net, device, tta, input_size: as for :func:`~pixelseg.inference.semanticseg`.
        mini_batch_size: frames per forward pass.
        return_scores, all_scores: also yield the winning class's score H x W float32 /
            every class's scores K x H x W float32, as ``semanticseg`` returns them.
        roi: one region of interest for every frame (a rectangle ``(x, y, width, height)``
            in 0-based pixels, an H x W mask or a mask file); outside it labels are 255.
        return_frames: yield the decoded frame first (H x W x 3 uint8 RGB; H x W x 1 grey
            for a network of one input channel).
        progress: a tqdm bar over the frames (its total is the container's frame count when
            it declares one).

    Yields:
        Per frame: ``labels`` H x W uint8 (class indices, 255 outside ``roi``); with
        options, a tuple ``(frame, labels, scores, all_scores)`` of those asked for, in that order.

    Raises:
        MissingExtraError: PyAV is not installed (``pip install "pixelseg[video]"``).
        FileNotFoundError: no such file. ConfigurationError: not a video suffix, a bad option,
            a network that takes neither 1 nor 3 channels.
        DataError: the file cannot be decoded (naming the file and, while iterating, the frame).

    Examples:
        >>> from pixelseg.inference import segment_video               # doctest: +SKIP
        >>> for labels in segment_video("drive.mp4", net):            # doctest: +SKIP
        ...     print(labels.shape, labels.dtype)                     # (H, W) uint8, per frame
    """
    from pixelseg.inference.batching import outputs_of as _outputs

    _check_batch_size(mini_batch_size)
    path = _check_video_path(path)
    video_info(path)  # the extra, the file and its video stream, before any frame
    predictor = Predictor(net, device=device, tta=tta, input_size=input_size)
    _frame_channels(predictor, path)
    region = None if roi is None else SameRegion(roi, str(path))
    need_scores = bool(return_scores or all_scores)

    def generate():
        for frame, labels, probs in _labelled_frames(path, predictor, mini_batch_size, need_scores, region, progress):
            out = _outputs((labels, probs), return_scores, all_scores)
            if return_frames:
                out.insert(0, frame)
            yield out[0] if len(out) == 1 else tuple(out)

    return generate()


