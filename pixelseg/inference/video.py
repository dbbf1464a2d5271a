"""Video: label every frame of a video file, streamed, with PyAV (the ``video`` extra).

:func:`segment_video` decodes a video frame by frame, runs the frames through the network in
mini-batches exactly as :func:`~pixelseg.inference.semanticseg` runs a list of images, and
yields one label map per frame: memory stays that of one mini-batch, whatever the video's
length. ``semanticseg("drive.mp4", net)`` returns the same generator.
:func:`write_video_labels` writes the result as a video (class colours, or the frames blended
with them) with the input's frame rate and size, and on request every frame's label map as a
PNG of class indices.

Frames are decoded to H x W x 3 uint8 RGB (H x W x 1 for a one-channel network) by FFmpeg's
converter; the audio and subtitle streams are not read. PyAV is imported only when a video is
opened, so the module imports without the extra.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import warnings
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference.predictor import Predictor, default_class_set
from pixelseg.inference.roi import RegionsOfInterest
from pixelseg.inference.sources import VIDEO_SUFFIXES, is_video_path
from pixelseg.utils.atomic import atomic_write, check_output_paths, save_png
from pixelseg.utils.extras import require

__all__ = ["VideoInfo", "WrittenVideo", "segment_video", "video_info", "write_video_labels"]

_FEATURE = "video inference (segment_video, pixelseg predict VIDEO)"
#: FFmpeg muxer of each output suffix.
_CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}
#: Default encoders of each output suffix, the first one this FFmpeg build has is used.
_CODECS = {".mp4": ("libx264", "mpeg4"), ".mov": ("libx264", "mpeg4"), ".mkv": ("libx264", "mpeg4"),
           ".webm": ("libvpx-vp9", "libvpx"), ".avi": ("mpeg4",)}
#: Encoder options: x264's veryfast preset encodes about 2.5 times faster than its default
#: (medium) and, on class-colour frames, into a smaller file.
_ENCODER_OPTIONS = {"libx264": {"preset": "veryfast"}}
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


@dataclasses.dataclass(frozen=True)
class WrittenVideo:
    """What :func:`write_video_labels` wrote: the video ``path``, its ``frames`` count, ``fps``,
    ``width`` and ``height`` (those of the input), and the folder of per-frame label maps
    (``label_maps``, None when none were asked for)."""

    path: Path
    frames: int
    fps: Fraction
    width: int
    height: int
    label_maps: Path | None


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


class _SameRegion(RegionsOfInterest):
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

    from pixelseg.inference.segment import _label_arrays

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
                  device="auto", tta=False, *, input_size=None, roi=None, return_frames: bool = False,
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
    from pixelseg.inference.segment import _outputs

    _check_batch_size(mini_batch_size)
    path = _check_video_path(path)
    video_info(path)  # the extra, the file and its video stream, before any frame
    predictor = Predictor(net, device=device, tta=tta, input_size=input_size)
    _frame_channels(predictor, path)
    region = None if roi is None else _SameRegion(roi, str(path))
    need_scores = bool(return_scores or all_scores)

    def generate():
        for frame, labels, probs in _labelled_frames(path, predictor, mini_batch_size, need_scores, region, progress):
            out = _outputs((labels, probs), return_scores, all_scores)
            if return_frames:
                out.insert(0, frame)
            yield out[0] if len(out) == 1 else tuple(out)

    return generate()


# ---------------------------------------------------------------------------- writing
#: Lossless encoders, given RGB frames (no chroma subsampling) so that the colours stay exact.
_LOSSLESS_RGB = {"ffv1": ("bgr0", "gbrp"), "png": ("rgb24",), "qtrle": ("rgb24",)}


def _encoder(av, suffix: str, codec: str | None, width: int, height: int) -> tuple[str, str]:
    """(codec, pixel format) for an output of ``suffix``: ``codec`` or the suffix's default,
    in 4:2:0 (4:4:4 for libx264 when a side is odd, which 4:2:0 H.264 cannot hold; RGB for
    the lossless encoders of :data:`_LOSSLESS_RGB`)."""
    names = (codec,) if codec else _CODECS[suffix]
    for name in names:
        try:
            formats = [f.name for f in av.Codec(name, "w").video_formats or ()]
        except (av.FFmpegError, ValueError):  # this FFmpeg build lacks the encoder
            continue
        odd = width % 2 or height % 2
        preferred = _LOSSLESS_RGB.get(name, ("yuv444p",) if odd and name.startswith("libx264") else ())
        for wanted in preferred + ("yuv420p",):
            if wanted in formats:
                return name, wanted
        return name, formats[0] if formats else "yuv420p"
    raise ConfigurationError(f"this FFmpeg build (PyAV) has no {' or '.join(names)} encoder for {suffix} files; "
                             f"pass another codec (encoders: see av.codecs_available)")


def _label_map_names(folder: Path, prefix: str, overwrite: bool) -> str:
    """Prepare the folder of per-frame label maps; the name pattern of its files.

    Raises:
        ConfigurationError: ``folder`` is a file. FileExistsError: label maps of this video
            are there already and ``overwrite`` is False.
    """
    if not isinstance(prefix, str) or "/" in prefix or os.sep in prefix:
        raise ConfigurationError(f"name_prefix must be a file-name prefix without folders, got {prefix!r}")
    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"label_maps_dir {folder} is a file, not a folder")
    pattern = glob.escape(prefix) + "[0-9]" * 6 + "*.png"
    existing = sorted(folder.glob(pattern)) if folder.is_dir() else []
    if existing and not overwrite:
        raise FileExistsError(f"{len(existing)} label map(s) exist already in {folder}, e.g. {existing[0].name}; "
                              "pass overwrite=True (--overwrite on the command line) to replace them")
    folder.mkdir(parents=True, exist_ok=True)
    return prefix + "{:06d}.png"


def write_video_labels(path_in, net, out_path, overlay: bool = False, label_maps_dir=None, *,
                       mini_batch_size: int = 4, device="auto", tta=False, input_size=None, roi=None,
                       class_set=None, transparency: float = 0.5, codec: str | None = None,
                       name_prefix: str | None = None, overwrite: bool = False,
                       progress: bool = True) -> WrittenVideo:
    """Label every frame of a video and write the result as a video of the same frame rate and size.

    Each output frame shows the frame's label map in the class colours (void black), or with
    ``overlay`` the frame blended with them (:func:`~pixelseg.inference.label_overlay`).
    Video codecs are lossy: the colours are for viewing; ``label_maps_dir`` keeps the exact
    class indices. Streamed as :func:`segment_video` (one mini-batch in memory). The video is
    written to a temporary file beside ``out_path`` and moved into place at the end, so a
    failed or interrupted run leaves no partial ``out_path`` (each label PNG is written
    atomically too, but those of the frames done before a failure stay); audio is not copied.

    Args:
        path_in: the input video (.mp4, .avi, .mov, .mkv, .webm).
        net, mini_batch_size, device, tta, input_size, roi: as for :func:`segment_video`.
        out_path: the output video; its suffix (.mp4, .avi, .mov, .mkv, .webm) picks the
            container. Never the input, and not replaced unless ``overwrite``.
        overlay: blend the frames with the class colours instead of the colours alone.
        label_maps_dir: also write each frame's label map as a palette PNG of class indices
            (255 void) into this folder (created), named ``<name_prefix>000000.png``,
            ``<name_prefix>000001.png``... (frame numbers from 0).
        class_set: the colours (and PNG palette); default the network's, else
            :func:`~pixelseg.inference.default_colormap` colours.
        transparency: of the frame in the overlay, in [0, 1] (MATLAB ``labeloverlay``).
        codec: an FFmpeg encoder name; default libx264 (.mp4, .mov, .mkv; mpeg4 when the
            FFmpeg build lacks it), mpeg4 (.avi), libvpx-vp9 (.webm). ``"ffv1"`` in .mkv is
            lossless.
        name_prefix: prefix of the label map names; default ``<input stem>_``.
        overwrite: replace an existing ``out_path`` and label maps.
        progress: a tqdm bar over the frames.

    Returns:
        A :class:`WrittenVideo`: the path, frame count, frame rate and size written.

    Raises:
        MissingExtraError: PyAV is not installed (``pip install "pixelseg[video]"``).
        FileNotFoundError: no input. FileExistsError: an output exists and ``overwrite`` is False
            (checked before any frame is decoded).
        ConfigurationError: a suffix that is not a video's, ``out_path`` is the input, a bad
            option or codec.
        DataError: the input cannot be decoded, or its frame size changes midway.
    """
    from pixelseg.inference.overlay import label_overlay

    av = _av()
    _check_batch_size(mini_batch_size)
    path_in = _check_video_path(path_in)
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in _CONTAINERS:
        raise ConfigurationError(f"the output video {out_path} must end in one of {', '.join(_CONTAINERS)}")
    check_output_paths([path_in], [out_path], overwrite)
    try:
        ok = 0.0 <= float(transparency) <= 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigurationError(f"transparency must be a number in [0, 1], got {transparency!r}")
    info = video_info(path_in)
    codec_name, pix_fmt = _encoder(av, suffix, codec, info.width, info.height)
    pattern = None
    if label_maps_dir is not None:
        prefix = f"{path_in.stem}_" if name_prefix is None else name_prefix
        pattern = _label_map_names(Path(label_maps_dir), prefix, overwrite)
    predictor = Predictor(net, device=device, tta=tta, input_size=input_size)
    classes = default_class_set(predictor.probe_num_classes(),
                                class_set if class_set is not None else predictor.class_set)
    palette = classes.palette()
    region = None if roi is None else _SameRegion(roi, str(path_in))
    count = 0
    with atomic_write(out_path, overwrite=overwrite) as tmp, av.open(str(tmp), "w", format=_CONTAINERS[suffix]) as out:
        stream = out.add_stream(codec_name, rate=info.fps, options=_ENCODER_OPTIONS.get(codec_name, {}))
        stream.width, stream.height, stream.pix_fmt = info.width, info.height, pix_fmt
        for frame, labels, _ in _labelled_frames(path_in, predictor, mini_batch_size, False, region, progress):
            if frame.shape[:2] != (info.height, info.width):
                raise DataError(f"{path_in}: frame {count} is {frame.shape[1]} x {frame.shape[0]}, but the video "
                                f"started at {info.width} x {info.height}; a video of changing size cannot be written")
            picture = label_overlay(frame, labels, classes, transparency) if overlay else classes.colorize(labels)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
            if pattern is not None:
                save_png(labels, Path(label_maps_dir) / pattern.format(count), palette, overwrite=overwrite)
            count += 1
        out.mux(stream.encode(None))
        if count == 0:
            raise DataError(f"{path_in} holds no decodable frame; nothing was written")
    return WrittenVideo(out_path, count, info.fps, info.width, info.height,
                        Path(label_maps_dir) if label_maps_dir is not None else None)
