"""The predict job on a video (``pixelseg predict NET video.mp4 --out labels.mp4``).

:func:`run_predict <pixelseg.workflow.predict.run_predict>` hands a video input here after
reading the checkpoint and resolving ``input_size``: the frames are labelled as a stream and
written as a video of the same frame rate and size (class colours, or with ``overlay`` the
frames blended with them), optionally with one label PNG per frame
(:func:`~pixelseg.inference.write_video_labels`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pixelseg.errors import ConfigurationError
from pixelseg.inference.predictor import default_class_set
from pixelseg.inference.sources import VIDEO_SUFFIXES, is_video_path

__all__ = ["is_video_job", "run_predict_video"]

_log = logging.getLogger(__name__)


def is_video_job(inputs: Sequence[str | Path] | None) -> bool:
    """True when the inputs name a video file (.mp4, .avi, .mov, .mkv, .webm).

    Raises:
        ConfigurationError: a video among other inputs (one video per command).
    """
    videos = [i for i in inputs or () if is_video_path(i)]
    if videos and len(inputs) > 1:
        raise ConfigurationError(f"label one video per command: {videos[0]} is given with {len(inputs) - 1} other "
                                 "input(s)")
    return bool(videos)


def run_predict_video(trained: Any, video: str | Path, out: str | Path, overlay: bool = False,
                      label_maps: str | Path | None = None, mini_batch_size: int | None = None,
                      device: str = "auto", tta: bool | tuple[float, ...] = False,
                      input_size: tuple[int, int] | None = None, roi: Any = None, overwrite: bool = False,
                      name_prefix: str = "pred_", echo: Callable[[str], None] = _log.info) -> list[Path]:
    """Label every frame of ``video`` with ``trained`` and write ``out`` (a video file).

    Args:
        trained: the ``TrainedNetwork`` of the checkpoint.
        video: the input video.
        out: the output video (.mp4, .avi, .mov, .mkv, .webm): class colours of each frame,
            or with ``overlay`` the frame blended with them; frame rate and size of the input.
        label_maps: also write each frame's label map (class indices, 255 void) as
            ``<label_maps>/<name_prefix><video stem>_000000.png``, ...
        mini_batch_size: frames per forward pass (default 4).
        device, tta, input_size, roi: as for :func:`~pixelseg.inference.segment_video`
            (``roi``: one region for every frame).
        overwrite: replace an existing ``out`` and label maps.
        echo: receives one line per message.

    Returns:
        ``[out]``.

    Raises:
        ConfigurationError: ``out`` is not a video file name. Others as
        :func:`~pixelseg.inference.write_video_labels`.
    """
    from pixelseg.inference import write_video_labels

    out = Path(out)
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise ConfigurationError(f"--out {out}: with a video input, --out is the output video (a file ending in "
                                 f"{', '.join(VIDEO_SUFFIXES)}), e.g. --out labels.mp4")
    if out.parent != Path() and not out.parent.exists():
        out.parent.mkdir(parents=True)
    class_set = default_class_set(trained.num_classes, trained.class_set)
    written = write_video_labels(video, trained, out, overlay=overlay, label_maps_dir=label_maps,
                                 mini_batch_size=mini_batch_size or 4, device=device, tta=tta, input_size=input_size,
                                 roi=roi, class_set=class_set, name_prefix=f"{name_prefix}{Path(video).stem}_",
                                 overwrite=overwrite)
    echo(f"labelled {written.frames} frame(s) of {video} into {out} ({written.width} x {written.height}, "
         f"{float(written.fps):g} frames/s, {class_set.num_classes} classes)")
    if label_maps is not None:
        echo(f"wrote {written.frames} label map(s) into {label_maps}")
    return [out]
