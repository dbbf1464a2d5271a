"""Distributed inference benchmark (issue 20): ``semanticseg(engine="ray")`` with 2 workers of
1 torch thread each against one process with 2 torch threads, on the same images.

Both write palette PNGs from files with the demo network (DeepLab v3+ on EfficientNet-Lite0,
random weights: speed does not depend on them). Printed: images per second of each, their
ratio (ray / one process; target >= 0.9), whether the label files are byte-identical, the
peak resident memory of the single process and of each Ray worker (``VmHWM`` of
``/proc/<pid>/status``, Linux), and the Ray start-up time, which is left out of the ray
time (a cluster is started once for many runs) while the workers' start (importing torch,
rebuilding the network) is counted.

Images: the first N CamVid training images of the shared data (``../shared/data/camvid``,
``PIXELSEG_SHARED_DATA``), else the bundled CamVid sample (60 images). Needs the ``ray`` extra.

    python bench/bench_ray.py [--images 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIXELSEG_SHARED_DATA", ROOT.parent / "shared" / "data")) / "camvid" / "train"
SAMPLE = ROOT / "pixelseg" / "demo_data" / "camvid_sample"


def image_files(n: int) -> list[Path]:
    from pixelseg.data import ImageDatastore

    if SHARED.is_dir():
        return list(ImageDatastore(SHARED).files[:n])
    return [f for split in ("train", "val") for f in ImageDatastore(SAMPLE / split).files][:n]


def save_network(path: Path) -> None:
    import torch

    from pixelseg.checkpoint import TrainedNetwork
    from pixelseg.models import create_network

    torch.manual_seed(0)
    net = create_network("deeplabv3plus", num_classes=11, backbone="efficientnet_lite0").eval()
    TrainedNetwork(network=net).save(path)


def single_process(network: str, files_list: str, out: str, threads: int) -> None:
    """Child process: one process with ``threads`` torch threads; prints seconds and peak MB."""
    import torch

    from pixelseg.checkpoint import load_network
    from pixelseg.inference import semanticseg

    torch.set_num_threads(threads)
    files = Path(files_list).read_text().split("\n")
    net = load_network(network)
    start = time.perf_counter()
    semanticseg(files, net, write_location=out, device="cpu", progress=False)
    elapsed = time.perf_counter() - start
    print(f"{elapsed} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}")


class WorkerMemory(threading.Thread):
    """Polls the peak resident memory (VmHWM) of the processes named after the Ray actor."""

    def __init__(self, name: str = "SegmenterActor"):
        super().__init__(daemon=True)
        self.name, self.peaks, self.done = name, {}, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    if self.name not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                        continue
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
                self.peaks[pid] = max(self.peaks.get(pid, 0), kib / 1024.0)


def compare(one: Path, other: Path) -> tuple[int, int, int, int]:
    """(files byte-identical, files that differ, differing pixels, pixels) of two output folders."""
    import numpy as np
    from PIL import Image

    same = differ = pixels = total = 0
    for path in sorted(one.iterdir()):
        twin = other / path.name
        if twin.is_file() and twin.read_bytes() == path.read_bytes():
            same += 1
        else:
            differ += 1
            if twin.is_file():
                pixels += int((np.asarray(Image.open(path)) != np.asarray(Image.open(twin))).sum())
        total += Image.open(path).size[0] * Image.open(path).size[1]
    return same, differ, pixels, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads of the one process (default --workers)")
    args = parser.parse_args()
    import ray

    from pixelseg.inference import semanticseg

    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        tmp = Path(tmp)
        files = image_files(args.images)
        (tmp / "files.txt").write_text("\n".join(map(str, files)))
        save_network(tmp / "net.pt")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        code = ("import sys; sys.path.insert(0, 'bench'); from bench_ray import single_process; "
                f"single_process({str(tmp / 'net.pt')!r}, {str(tmp / 'files.txt')!r}, {str(tmp / 'one')!r}, "
                f"{args.threads or args.workers})")
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                check=True)
        one_s, one_mb = map(float, result.stdout.split()[-2:])

        start = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False)
        init_s = time.perf_counter() - start
        memory = WorkerMemory()
        memory.start()
        start = time.perf_counter()
        semanticseg(files, tmp / "net.pt", write_location=tmp / "ray", device="cpu", engine="ray",
                    num_workers=args.workers, progress=False)
        ray_s = time.perf_counter() - start
        memory.done.set()
        memory.join()
        ray.shutdown()
        same, differ, pixels, total = compare(tmp / "one", tmp / "ray")

    n = len(files)
    rows = [
        ("images", f"{n} ({files[0].parent})"),
        (f"one process x {args.threads or args.workers} threads", f"{one_s:.1f} s, {n / one_s:.2f} img/s, peak {one_mb:.0f} MB"),
        (f"ray: {args.workers} workers x 1 thread", f"{ray_s:.1f} s, {n / ray_s:.2f} img/s (ray.init {init_s:.1f} s "
                                                      "not counted)"),
        ("ratio ray / one process", f"{one_s / ray_s:.3f} (target >= 0.9)"),
        ("label files identical", f"{same} of {n}; {differ} differ in {pixels} of {total} pixels"),
        ("peak RSS per ray worker", ", ".join(f"{mb:.0f} MB" for mb in sorted(memory.peaks.values())) or "not seen"),
        ("load average at the end", " ".join(f"{v:.1f}" for v in os.getloadavg())),
    ]
    width = max(len(k) for k, _ in rows)
    print("\nsemanticseg on Ray against one process")
    print("-" * (width + 40))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
