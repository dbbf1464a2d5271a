"""Shipped networks (issue 18): latency at 360 x 480, batch 1, in PyTorch and onnxruntime.

Each network of ``pixelseg models`` labels the same CamVid validation images (random images
when ``shared/data/camvid/val`` is absent) at 360 x 480, one image at a time, with 2 threads:

- PyTorch: ``semanticseg(image, net)``, which resizes to the network's inference size (the
  size it was trained at) and back, as ``pixelseg predict NAME`` does;
- onnxruntime: ``OnnxSegmenter.predict(image)`` on the network exported with ``export_onnx``
  (the inference size travels in the model's metadata; the segmenter resizes the same way).

Rounds alternate between the networks so that a load change on a shared machine hits all of
them; the best round of each is reported, with its ratio to ``camvid`` (the baseline, measured
in the same run).

    python bench/bench_pretrained.py [--images 10] [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_inference import CAMVID_VAL, table  # noqa: E402

SIZE = (360, 480)
BASELINE = "camvid"


def test_images(n: int) -> list[np.ndarray]:
    """n CamVid validation images (360 x 480 RGB uint8), else n random images."""
    from pixelseg.data import ImageDatastore

    if CAMVID_VAL.is_dir():
        store = ImageDatastore(CAMVID_VAL)
        return [store.read(i) for i in range(min(n, len(store)))]
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8) for _ in range(n)]


def milliseconds_per_image(run, images) -> float:
    start = time.perf_counter()
    for image in images:
        run(image)
    return 1000 * (time.perf_counter() - start) / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    from pixelseg.checkpoint import load_network
    from pixelseg.export import OnnxSegmenter, export_onnx
    from pixelseg.inference import semanticseg
    from pixelseg.pretrained import model_cards

    torch.set_num_threads(args.threads)
    images = test_images(args.images)
    cards = model_cards()
    if not cards:
        print("no shipped networks")
        return
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for card in cards:
            net = load_network(card.name)
            onnx = OnnxSegmenter(export_onnx(net, Path(tmp) / f"{card.name}.onnx", verify=False,
                                             example_size=net.inference_size or SIZE),
                                 num_threads=args.threads)
            runs[(card.name, "pytorch")] = lambda image, net=net: semanticseg(image, net, input_size=net.inference_size)
            runs[(card.name, "onnxruntime")] = onnx.predict
        times = {key: [] for key in runs}
        for run in runs.values():
            run(images[0])  # warm-up
        for _ in range(args.rounds):
            for key, run in runs.items():
                times[key].append(milliseconds_per_image(run, images))
    best = {key: min(values) for key, values in times.items()}
    rows = []
    for (name, engine), ms in best.items():
        base = best.get((BASELINE, engine))
        ratio = f"  ({ms / base:.2f} of {BASELINE})" if base and name != BASELINE else ""
        rows.append((f"{name}, {engine}", f"{ms:.0f} ms/image{ratio}  (rounds: "
                                          f"{', '.join(f'{t:.0f}' for t in times[(name, engine)])})"))
    source = "CamVid val" if CAMVID_VAL.is_dir() else "random"
    table(f"shipped networks at {SIZE[0]} x {SIZE[1]}, batch 1, {args.threads} threads, {len(images)} {source} "
          f"images, best of {args.rounds} rounds, load average {load:.1f}", rows)


if __name__ == "__main__":
    main()
