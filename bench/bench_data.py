"""Benchmark of the data stage (issue 3). Prints a table; ratios against baselines measured
in the same run, never timed assertions.

1. Indexing: 100,000 image/label pairs (empty files) into a PairedDatastore
   (ImageDatastore + PixelLabelDatastore + combine): time and peak Python memory
   (tracemalloc), against a bare ``os.listdir`` + dict join of the same folders.
   Targets: under 2 s and under 200 MB.
2. Loading: a DataLoader with 2 workers over CamVid (360 x 480) with the default
   augmentation, in pairs per second, against the rate at which one training step of the
   demo network (DeepLab v3+ / EfficientNet-Lite0, as ``pixelseg demo`` builds it, without
   downloading weights) consumes pairs. Target: loading at least 3 x faster.

Usage: python bench/bench_data.py [--pairs 100000] [--camvid PATH] [--batches 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CAMVID = Path(os.environ.get("PIXELSEG_SHARED_DATA", ROOT.parent / "shared" / "data")) / "camvid"


def make_empty_pairs(folder: Path, n: int) -> tuple[Path, Path]:
    images, labels = folder / "images", folder / "labels"
    images.mkdir()
    labels.mkdir()
    for i in range(n):
        open(images / f"frame_{i}.png", "wb").close()
        open(labels / f"frame_{i}_L.png", "wb").close()
    return images, labels


def bench_indexing(n: int) -> list[tuple[str, str, str]]:
    from pixelseg.data import ClassSet, ImageDatastore, PixelLabelDatastore, combine

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        images, labels = make_empty_pairs(Path(tmp), n)
        setup = time.perf_counter() - started

        def baseline():
            a = sorted(os.listdir(images))
            b = {name[:-6]: name for name in os.listdir(labels)}
            return [(x, b[x[:-4]]) for x in a]

        def ours():
            classes = ClassSet(["a", "b"])
            return combine(ImageDatastore(images), PixelLabelDatastore(labels, classes), label_suffix="_L")

        results = {}
        for name, fn in (("baseline listdir + dict join", baseline), ("ImageDatastore + combine", ours)):
            times = []
            for _ in range(2):  # best of two (the machine is shared), without tracing
                started = time.perf_counter()
                out = fn()
                times.append(time.perf_counter() - started)
                assert len(out) == n
                del out
            tracemalloc.start()  # memory in a separate, traced run (tracing slows Python down)
            out = fn()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            del out
            results[name] = (min(times), peak)
        base_t, base_m = results["baseline listdir + dict join"]
        ours_t, ours_m = results["ImageDatastore + combine"]
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        rows.append((f"create {n} empty pairs (setup)", f"{setup:.2f} s (load average {load:.1f})", ""))
        rows.append((f"index {n} pairs: baseline", f"{base_t:.3f} s, {base_m / 2**20:.0f} MB", "1.00 x"))
        verdict = "ok" if ours_t < 2 and ours_m < 200 * 2**20 else "OVER TARGET"
        rows.append(
            (
                f"index {n} pairs: PairedDatastore",
                f"{ours_t:.3f} s, {ours_m / 2**20:.0f} MB (target < 2 s, < 200 MB: {verdict})",
                f"{ours_t / base_t:.2f} x time",
            )
        )
    return rows


def bench_loading(camvid: Path, batches: int, batch_size: int = 8) -> list[tuple[str, str, str]]:
    import torch

    from pixelseg.data import Augmenter
    from pixelseg.data.formats.camvid import read_camvid

    train = read_camvid(camvid, splits=("train",))["train"]
    ds = train.as_tensors().transform(Augmenter("default", seed=0))
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, num_workers=2, shuffle=True, persistent_workers=False)
    it = iter(loader)
    next(it)  # worker start-up excluded
    started = time.perf_counter()
    for _ in range(batches):
        next(it)
    load_rate = batches * batch_size / (time.perf_counter() - started)
    del it

    images, labels = next(iter(torch.utils.data.DataLoader(ds, batch_size=batch_size)))
    try:
        from pixelseg.models import create_network

        net = create_network("deeplabv3plus", num_classes=11, backbone="efficientnet_lite0")
        net_name = "deeplabv3plus / efficientnet_lite0"
    except Exception as exc:  # models stage not available: a small stand-in
        print(f"(demo network unavailable: {exc}; using a 3-layer stand-in)", file=sys.stderr)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(16, 11, 1)
        )
        net_name = "stand-in conv net"
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=255)
    net.train()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(net(images), labels)
        loss.backward()
        optimizer.step()

    step()  # warm-up
    steps = 2
    started = time.perf_counter()
    for _ in range(steps):
        step()
    train_rate = steps * batch_size / (time.perf_counter() - started)
    ratio = load_rate / train_rate
    return [
        (f"training step, {net_name}, batch {batch_size}, 360 x 480", f"{train_rate:.2f} pairs/s", "1.00 x"),
        (
            "DataLoader, 2 workers, default augmentation",
            f"{load_rate:.2f} pairs/s (target >= 3 x: {'ok' if ratio >= 3 else 'BELOW TARGET'})",
            f"{ratio:.2f} x",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--camvid", type=Path, default=DEFAULT_CAMVID)
    parser.add_argument("--batches", type=int, default=6)
    args = parser.parse_args()
    rows = bench_indexing(args.pairs)
    if args.camvid.is_dir():
        rows += bench_loading(args.camvid, args.batches)
    else:
        rows.append(("loading", f"skipped: {args.camvid} absent", ""))
    width = [max(len(r[i]) for r in rows + [("measure", "result", "ratio")]) for i in range(3)]
    header = ("measure", "result", "ratio")
    print(" | ".join(h.ljust(w) for h, w in zip(header, width, strict=True)))
    print("-+-".join("-" * w for w in width))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, width, strict=True)))


if __name__ == "__main__":
    main()
