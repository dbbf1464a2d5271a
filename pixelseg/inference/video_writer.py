"""Writing a video's labels (:func:`write_video_labels`): class colours, or the frames blended
with them, at the input's frame rate and size, and on request every frame's label map as a
PNG of class indices; PyAV (the ``video`` extra), frames streamed by
:func:`~pixelseg.inference.video.segment_video`."""

from __future__ import annotations

import dataclasses
import glob
import os
from fractions import Fraction
from pathlib import Path

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference.overlay import check_transparency
from pixelseg.inference.predictor import Predictor, default_class_set
from pixelseg.inference.video import SameRegion, _av, _check_batch_size, _check_video_path, _labelled_frames, video_info
from pixelseg.utils.atomic import atomic_write, check_output_paths, save_png

__all__ = ["WrittenVideo", "write_video_labels"]

#: FFmpeg muxer of each output suffix.
_CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}
#: Default encoders of each output suffix, the first one this FFmpeg build has is used.
_CODECS = {".mp4": ("libx264", "mpeg4"), ".mov": ("libx264", "mpeg4"), ".mkv": ("libx264", "mpeg4"),
           ".webm": ("libvpx-vp9", "libvpx"), ".avi": ("mpeg4",)}
#: Encoder options: x264's veryfast preset encodes about 2.5 times faster than its default
#: (medium) and, on class-colour frames, into a smaller file.
_ENCODER_OPTIONS = {"libx264": {"preset": "veryfast"}}

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
                       mini_batch_size: int = 4, device="auto", tta=False, input_size="auto", roi=None,
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
    check_transparency(transparency)
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
    region = None if roi is None else SameRegion(roi, str(path_in))
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
