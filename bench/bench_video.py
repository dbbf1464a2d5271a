"""Video benchmark (issue 20): ``segment_video`` against ``semanticseg`` on the decoded frames.

The benchmark writes a 360 x 480 H.264 video (``--frames`` frames, CamVid validation images
in sequence when ``../shared/data/camvid`` is there, else smooth synthetic frames), decodes
it once into memory, and times, on the same small network, mini-batch and thread count:

- baseline: ``semanticseg(frames, net)`` on the list of already-decoded frames;
- ``segment_video(path, net)``: decoding included, streamed (target: >= 0.95 of the baseline);
- ``write_video_labels`` with and without ``overlay`` and per-frame label PNGs (reported:
  the encoding and PNG writing cost on top).

Each is timed ``--repeats`` times, interleaved, and the best time kept, so that a slow moment
on a shared machine hits both sides alike. The label maps of the first two must be equal.

    python bench/bench_video.py [--frames 30] [--repeats 3] [--network unet-small|demo]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_inference import CAMVID_VAL, table  # noqa: E402


def build_network(kind: str):
    import torch

    from pixelseg.models import create_network

    torch.manual_seed(0)
    if kind == "demo":
        return create_network("deeplabv3plus", num_classes=11, backbone="efficientnet_lite0").eval()
    return create_network("unet", num_classes=11, encoder_depth=3, num_first_encoder_filters=8).eval()


def source_frames(count: int, size=(360, 480)) -> list[np.ndarray]:
    """CamVid validation images in name order (a drive), else moving smooth gradients."""
    from pixelseg.data import ImageDatastore

    if CAMVID_VAL.is_dir():
        ds = ImageDatastore(CAMVID_VAL)
        return [ds.read(i)[: size[0], : size[1]] for i in range(min(count, len(ds)))]
    h, w = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return [np.stack([(x + 8 * i) % 256, (y + 4 * i) % 256, ((x + y) / 2 + 2 * i) % 256], -1).astype(np.uint8)
            for i in range(count)]


def write_video(path: Path, frames: list[np.ndarray], fps: int = 30) -> None:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))


def decode(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--network", choices=("unet-small", "demo"), default="unet-small")
    args = parser.parse_args()

    import torch

    from pixelseg.inference import segment_video, semanticseg, write_video_labels

    net = build_network(args.network)
    common = {"mini_batch_size": args.batch, "device": "cpu"}
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "drive.mp4"
        write_video(video, source_frames(args.frames))
        frames = decode(video)
        semanticseg(frames[: args.batch], net, **common)  # warm-up (thread pools, kernels)
        runs = {
            "semanticseg on decoded frames (baseline)": lambda: semanticseg(frames, net, **common),
            "segment_video (decode + label)": lambda: list(segment_video(video, net, progress=False, **common)),
            "write_video_labels (colours)": lambda: write_video_labels(
                video, net, Path(tmp) / "labels.mp4", overwrite=True, progress=False, **common),
            "write_video_labels (overlay, label PNGs)": lambda: write_video_labels(
                video, net, Path(tmp) / "overlay.mp4", overlay=True, label_maps_dir=Path(tmp) / "maps",
                overwrite=True, progress=False, **common),
        }
        best = dict.fromkeys(runs, float("inf"))
        results = {}
        for _ in range(args.repeats):
            for name, run in runs.items():
                start = time.perf_counter()
                results[name] = run()
                best[name] = min(best[name], time.perf_counter() - start)
    names = list(runs)
    same = all(np.array_equal(a, b) for a, b in zip(results[names[0]], results[names[1]], strict=True))
    base = len(frames) / best[names[0]]
    rows = [("frames, size, network", f"{len(frames)}, {frames[0].shape[0]} x {frames[0].shape[1]}, {args.network}, "
             f"batch {args.batch}, {torch.get_num_threads()} threads, best of {args.repeats}")]
    for name in names:
        fps = len(frames) / best[name]
        rows.append((name, f"{fps:6.2f} frames/s  ratio {fps / base:.3f}"))
    rows.append(("label maps identical (segment_video vs semanticseg)", str(same)))
    table("Video: frames per second against semanticseg on the decoded frames (target ratio >= 0.95)", rows)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
