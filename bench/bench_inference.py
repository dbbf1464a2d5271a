"""Inference benchmark (issue 5): pipeline overhead, tiled inference memory and rate, ONNX.

Each section prints a table with its baseline measured in the same run:

1. semanticseg over CamVid validation images (360 x 480) from files to palette PNGs, against
   the bare network forward pass on the same images already in memory as tensors (target:
   ratio >= 0.95).
2. semanticseg_tiled on an RGB tiled TIFF the benchmark creates, written as a tiled TIFF,
   against the bare forward rate of the same tile batches (target: peak RSS <= 2 GB, ratio
   >= 0.9). The bare rate is timed before and after the tiled run and the faster is the
   baseline, so a slow moment on a shared machine cannot flatter the ratio.
   Run in a child process so that its peak resident memory is its own. Overlapping
   tiles compute some pixels twice: image pixels/s is about (1 - overlap/tile)^2 of the
   tile rate (0.88 for 512/32 on a large image; tiles are shrunk so that little is padding),
   so both ratios are printed; the tile-pixel ratio is the pipeline's own overhead.
3. onnxruntime (OnnxSegmenter) against PyTorch CPU inference on the same batch.

The default run is short (16 images, a 2048 x 2048 TIFF, section 3 on one batch);
``--full`` uses the issue's sizes (101 images, 20000 x 20000). The network is the demo's
DeepLab v3+ on EfficientNet-Lite0 with random weights (speed does not depend on them).

    python bench/bench_inference.py [--full] [--sections semanticseg,tiled,onnx]
    python bench/bench_inference.py --sections tiled --tiled-size 20000 --tiled-network pointwise
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CAMVID_VAL = Path(os.environ.get("PIXELSEG_SHARED_DATA", ROOT.parent / "shared" / "data")) / "camvid" / "val"


def build_network(num_classes: int = 11, kind: str = "demo"):
    """The demo network (DeepLab v3+, EfficientNet-Lite0, random weights), or with
    ``kind="pointwise"`` a 1 x 1 convolution: almost no compute, so that the tiled run
    measures the pipeline itself (reading, blending, writing) and its memory at full size."""
    import torch

    from pixelseg.models import create_network

    torch.manual_seed(0)
    if kind == "pointwise":
        net = torch.nn.Conv2d(3, num_classes, 1)
        net.in_channels, net.num_classes = 3, num_classes
        return net.eval()
    return create_network("deeplabv3plus", num_classes=num_classes, backbone="efficientnet_lite0").eval()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 24))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


# ---------------------------------------------------------------------- section 1
def bench_semanticseg(n_images: int, batch: int, workers: int | None, repeats: int) -> None:
    import torch

    from pixelseg.data import ImageDatastore
    from pixelseg.inference import semanticseg

    if CAMVID_VAL.is_dir():
        files = ImageDatastore(CAMVID_VAL).files[:n_images]
        source = f"CamVid val ({len(files)} images)"
    else:  # synthetic stand-in of the same size
        tmp = Path(tempfile.mkdtemp(prefix="bench_imgs_"))
        from PIL import Image

        rng = np.random.default_rng(0)
        for i in range(n_images):
            Image.fromarray(rng.integers(0, 256, (360, 480, 3), dtype=np.uint8)).save(tmp / f"img_{i}.png")
        files = ImageDatastore(tmp).files
        source = f"synthetic 360x480 PNGs ({len(files)}; CamVid absent)"
    net = build_network()
    images = [ImageDatastore(files).read(i) for i in range(len(files))]
    tensors = [torch.from_numpy(np.stack(images[i : i + batch])).permute(0, 3, 1, 2).float().div(255)
               .contiguous(memory_format=torch.channels_last) for i in range(0, len(images), batch)]
    def run_bare() -> float:
        with torch.inference_mode():
            t0 = time.perf_counter()
            for x in tensors:
                net(x).argmax(1)
            return time.perf_counter() - t0

    def run_pipeline(out: Path) -> float:
        t0 = time.perf_counter()
        semanticseg(files, net, mini_batch_size=batch, write_location=out, device="cpu",
                    progress=False, num_workers=workers)
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as out, torch.inference_mode():
        net(tensors[0][:1])  # warm-up
        bare, pipeline = float("inf"), float("inf")
        for k in range(repeats):  # interleaved, best of each: robust to a busy machine
            bare = min(bare, run_bare())
            pipeline = min(pipeline, run_pipeline(Path(out) / f"pred{k}"))
    n = len(files)
    table(f"1. semanticseg, files -> palette PNGs vs bare forward on in-memory tensors; {source}, "
          f"batch {batch}, {torch.get_num_threads()} torch threads", [
              ("bare forward (baseline)", f"{n / bare:8.2f} img/s"),
              ("semanticseg (read, forward, write)", f"{n / pipeline:8.2f} img/s"),
              ("ratio (target >= 0.95)", f"{bare / pipeline:8.3f}"),
          ])


# ---------------------------------------------------------------------- section 2
def make_tiff(path: Path, size: int, tile: int = 256) -> None:
    """A size x size RGB tiled TIFF with smooth structure, written tile by tile."""
    import tifffile

    yy, xx = np.mgrid[0:tile, 0:tile].astype(np.float32)

    def tiles():
        for ty in range(0, size, tile):
            for tx in range(0, size, tile):
                r = 127 + 120 * np.sin((yy + ty) / 97.0) * np.cos((xx + tx) / 131.0)
                g = 127 + 120 * np.sin((xx + tx + ty) / 61.0)
                b = ((xx + tx) * 7 + (yy + ty) * 3) % 256
                yield np.stack([r, g, b], axis=-1).astype(np.uint8)

    tifffile.imwrite(path, tiles(), shape=(size, size, 3), dtype=np.uint8, tile=(tile, tile),
                     photometric="rgb")


def tiled_child(args) -> dict:
    """Runs in a child process; returns measurements as a dict."""
    import torch

    from pixelseg.inference import semanticseg_tiled
    from pixelseg.inference.tiled import _Axis

    net = build_network(kind=args.tiled_network)
    rss_before = peak_rss_mb()
    overlap, batch = args.overlap, args.tile_batch
    axis = _Axis(args.tiled_size, args.tile_size, overlap)
    tile = axis.size  # the tiles the pipeline actually runs (shrunk to cover the image with little padding)
    x = torch.rand(batch, 3, tile, tile).contiguous(memory_format=torch.channels_last)
    reps = max(1, args.bare_reps)

    def bare_rate() -> float:
        with torch.inference_mode():
            net(x)  # warm-up
            t0 = time.perf_counter()
            for _ in range(reps):
                net(x).softmax(1)
        return reps * batch * tile * tile / (time.perf_counter() - t0)

    # The network's own forward calls inside the run, timed by hooks: a baseline taken at
    # the same moments as the run, so that the machine's drift (its bare rate varied by 35 %
    # over an hour here) cancels out of the ratio.
    in_run = {"seconds": 0.0, "pixels": 0}

    def started(module, inputs):
        in_run["t0"] = time.perf_counter()

    def finished(module, inputs, output):
        in_run["seconds"] += time.perf_counter() - in_run["t0"]
        n, _, h, w = inputs[0].shape
        in_run["pixels"] += n * h * w

    before = bare_rate()
    src = Path(args.tiff)
    out = src.with_name("labels.tif")
    hooks = [net.register_forward_pre_hook(started), net.register_forward_hook(finished)]
    t0 = time.perf_counter()
    semanticseg_tiled(src, net, out, tile_size=args.tile_size, overlap=overlap, mini_batch_size=batch, device="cpu",
                      progress=False, overwrite=True)
    elapsed = time.perf_counter() - t0
    for hook in hooks:
        hook.remove()
    after = bare_rate()
    tiles = axis.count ** 2
    return {
        "size": args.tiled_size, "elapsed": elapsed, "bare_rate": max(before, after),
        "bare_before": before, "bare_after": after,
        "in_run_rate": in_run["pixels"] / in_run["seconds"], "in_run_share": in_run["seconds"] / elapsed,
        "image_rate": args.tiled_size ** 2 / elapsed, "tile_rate": tiles * tile * tile / elapsed,
        "tiles": tiles, "tile": tile, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
        "threads": torch.get_num_threads(),
    }


def bench_tiled(args) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_tiled_") as folder:
        src = Path(folder) / "scene.tif"
        t0 = time.perf_counter()
        make_tiff(src, args.tiled_size)
        made = time.perf_counter() - t0
        cmd = [sys.executable, __file__, "--child-tiled", "--tiff", str(src), "--tiled-size", str(args.tiled_size),
               "--tile-size", str(args.tile_size), "--overlap", str(args.overlap), "--tile-batch",
               str(args.tile_batch), "--bare-reps", str(args.bare_reps), "--tiled-network", args.tiled_network]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode:
            print(result.stderr)
            raise SystemExit("tiled benchmark failed")
        r = json.loads(result.stdout.strip().splitlines()[-1])
        size_mb = src.stat().st_size / 2**20
    overlap_factor = r["tile_rate"] / r["image_rate"]
    table(f"2. semanticseg_tiled, {r['size']} x {r['size']} RGB tiled TIFF ({size_mb:.0f} MB, made in {made:.0f} s) "
          f"-> tiled label TIFF; {args.tiled_network} network, tiles {args.tile_size} (run as {r['tile']}), overlap {args.overlap}, "
          f"batch {args.tile_batch}, "
          f"{r['threads']} torch threads", [
              ("bare tile-batch forward + softmax, separate (faster of before/after)",
               f"{r['bare_rate'] / 1e6:8.3f} Mpx/s ({r['bare_before'] / 1e6:.3f} before, {r['bare_after'] / 1e6:.3f} after)"),
              ("bare forward of the run's own tile batches (baseline, timed in the run)",
               f"{r['in_run_rate'] / 1e6:8.3f} Mpx/s"),
              ("tiled: image pixels / s", f"{r['image_rate'] / 1e6:8.3f} Mpx/s ({r['elapsed']:.1f} s, {r['tiles']} tiles)"),
              ("tiled: tile pixels processed / s", f"{r['tile_rate'] / 1e6:8.3f} Mpx/s"),
              ("ratio tile px/s vs in-run forward (pipeline only; target >= 0.9)", f"{r['in_run_share']:8.3f}"),
              ("ratio image px/s vs in-run forward (overlap counted)", f"{r['image_rate'] / r['in_run_rate']:8.3f}"),
              ("ratio image px/s vs separate bare", f"{r['image_rate'] / r['bare_rate']:8.3f}"),
              ("overlap recomputation factor", f"{overlap_factor:8.3f}"),
              ("peak RSS (target <= 2048 MB)", f"{r['peak_rss_mb']:8.0f} MB (after building the network: {r['rss_before_mb']:.0f} MB)"),
          ])


# ---------------------------------------------------------------------- section 3
def bench_onnx(batch: int, reps: int) -> None:
    import torch

    from pixelseg.export import OnnxSegmenter, export_onnx

    net = build_network()
    x = torch.rand(batch, 3, 360, 480)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        path = export_onnx(net, Path(folder) / "demo.onnx", example_size=(360, 480))
        exported = time.perf_counter() - t0
        seg = OnnxSegmenter(path)
        images = (x.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
        seg.predict(images[:1])
        t0 = time.perf_counter()
        for _ in range(reps):
            seg.predict(images)
        ort_time = time.perf_counter() - t0
    xt = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        net(xt[:1])
        t0 = time.perf_counter()
        for _ in range(reps):
            net(xt).argmax(1)
        torch_time = time.perf_counter() - t0
    n = reps * batch
    table(f"3. onnxruntime vs PyTorch CPU, demo network at 360 x 480, batch {batch} x {reps} "
          f"(export + verification took {exported:.0f} s)", [
              ("PyTorch (baseline)", f"{n / torch_time:8.2f} img/s"),
              ("onnxruntime OnnxSegmenter", f"{n / ort_time:8.2f} img/s"),
              ("ratio onnxruntime / PyTorch", f"{torch_time / ort_time:8.3f}"),
          ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the issue's sizes: 101 images, 20000 x 20000 TIFF")
    parser.add_argument("--sections", default="semanticseg,tiled,onnx")
    parser.add_argument("--images", type=int, default=None)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=2, help="best of N interleaved runs (section 1)")
    parser.add_argument("--tiled-size", type=int, default=None)
    parser.add_argument("--tiled-network", choices=("demo", "pointwise"), default="demo",
                        help="pointwise: a 1x1 conv, to measure the tiled pipeline's own rate and memory")
    parser.add_argument("--tile-size", type=int, default=512)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--tile-batch", type=int, default=4)
    parser.add_argument("--bare-reps", type=int, default=5, help="timed tile batches of the baseline, before and after the run")
    parser.add_argument("--onnx-reps", type=int, default=2)
    parser.add_argument("--child-tiled", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tiff", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_tiled:
        print(json.dumps(tiled_child(args)))
        return
    args.images = args.images or (101 if args.full else 16)
    args.tiled_size = args.tiled_size or (20000 if args.full else 2048)
    sections = set(args.sections.split(","))
    if "semanticseg" in sections:
        bench_semanticseg(args.images, args.batch, args.workers, args.repeats)
    if "tiled" in sections:
        bench_tiled(args)
    if "onnx" in sections:
        bench_onnx(args.batch, args.onnx_reps)


if __name__ == "__main__":
    main()
