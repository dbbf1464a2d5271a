"""Small test videos written with PyAV (the ``video`` extra): 6 frames of 48 x 32 at 10 fps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FRAMES, HEIGHT, WIDTH, FPS = 6, 32, 48, 10


def write_test_video(path: Path, frames: list[np.ndarray], fps: int = FPS, codec: str | None = None,
                     pix_fmt: str = "yuv420p") -> Path:
    """Encode H x W x 3 uint8 frames into ``path`` (libx264 when this FFmpeg has it, else mpeg4)."""
    import av

    codec = codec or ("libx264" if "libx264" in av.codecs_available else "mpeg4")
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def moving_blocks(path: Path) -> Path:
    """A video of FRAMES frames: blocks of saturated red, green and blue moving 4 pixels a frame."""
    frames = []
    for i in range(FRAMES):
        frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        for k in range(3):
            start = (16 * k + 4 * i) % WIDTH
            frame[:, start:start + 16, k] = 220
        frames.append(frame)
    return write_test_video(path, frames)


def decode(path: Path) -> list[np.ndarray]:
    """Every frame of a video as H x W x 3 uint8 RGB."""
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
