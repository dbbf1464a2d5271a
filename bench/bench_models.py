"""Benchmark of the segmentation networks on this CPU (issue 4).

For each network at 360 x 480: parameters, GFLOPs, eval-mode images per second at batch 1 and
8, and the time of one training step (forward, cross-entropy, backward, SGD step) at batch 4.
Beside it, in the same run and interleaved call by call, a minimal hand-written version of the
same computation: normalisation, padding to the stride and cropping written out by hand around
``forward_padded`` (the same modules), i.e. without the input checks and the registry of
``SegmentationNetwork``; "overhead" is the relative difference of the fastest calls (target:
at most 5 %).

    python bench/bench_models.py            # --quick (default): DeepLab v3+ / EfficientNet-Lite0
    python bench/bench_models.py --full     # every network (over 30 minutes on 2 cores)
    python bench/bench_models.py --only segnet,fcn   # some networks of the full list

Prints a Markdown table (paste it into bench/RESULTS.md). Timings are the fastest of
``--repeats`` calls after one warm-up; other processes on the machine add noise, so compare
ratios, and rerun when the machine is busy.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from pixelseg.models import create_network, summary

H, W, K = 360, 480, 11
QUICK = [
    ("deeplabv3plus", {"backbone": "efficientnet_lite0"}, True),
    ("deeplabv3plus", {"backbone": "efficientnet_lite0"}, False),
]
FULL = QUICK + [
    ("unet", {"encoder": "efficientnet_lite0", "encoder_depth": 5}, True),
    ("deeplabv3plus", {"backbone": "resnet18"}, True),
    ("deeplabv3plus", {"backbone": "resnet50"}, True),
    ("unet", {}, True),
    ("segnet", {}, True),
    ("fcn", {"type": "8s"}, True),
]


def timed_pair(first: Callable[[], object], second: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Fastest seconds of two callables, run alternately after one warm-up each (the minimum is
    the estimate least disturbed by other processes on a shared machine)."""
    first(), second()
    a, b = [], []
    for _ in range(repeats):
        for fn, out in ((first, a), (second, b)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return min(a), min(b)


def hand_written(net) -> Callable[[torch.Tensor], torch.Tensor]:
    """The same computation without the wrapper: normalise, pad, forward_padded, crop by hand."""
    mean, inv_std, stride = net.normalize.mean, net.normalize.inv_std, net.stride

    def run(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = F.pad((x - mean) * inv_std, (0, (-w) % stride, 0, (-h) % stride))
        return net.forward_padded(x)[:, :, :h, :w]

    return run


def train_step(model: Callable, params, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.9)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y, ignore_index=255).backward()
        optimizer.step()

    return step


def bench(name: str, kwargs: dict, channels_last: bool, repeats: int) -> dict:
    torch.manual_seed(0)
    net = create_network(name, K, **kwargs)
    table = summary(net, (H, W))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    baseline = hand_written(net)
    row = {"network": f"{name} {' '.join(str(v) for v in kwargs.values())}".strip(),
           "format": "NHWC" if channels_last else "NCHW",
           "params_M": table.attrs["total_parameters"] / 1e6, "gflops": table.attrs["total_gflops"]}
    net.eval()
    with torch.inference_mode():
        for batch in (1, 8):
            x = torch.rand(batch, 3, H, W).contiguous(memory_format=fmt)
            ours, base = timed_pair(lambda x=x: net(x), lambda x=x: baseline(x), repeats)
            row[f"eval_b{batch}_img_s"] = batch / ours
            row[f"eval_b{batch}_overhead"] = ours / base - 1
    net.train()
    x = torch.rand(4, 3, H, W).contiguous(memory_format=fmt)
    y = torch.randint(0, K, (4, H, W))
    ours, base = timed_pair(train_step(net, net.parameters(), x, y), train_step(baseline, net.parameters(), x, y),
                            repeats)
    row["train_b4_s"] = ours
    row["train_b4_overhead"] = ours / base - 1
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="DeepLab v3+ / EfficientNet-Lite0 only (default)")
    mode.add_argument("--full", action="store_true", help="every network")
    parser.add_argument("--only", default=None, help="comma-separated network names of the full list, e.g. segnet,fcn")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement (the fastest counts)")
    args = parser.parse_args()
    configs = FULL if args.full or args.only else QUICK
    if args.only:
        names = {n.strip() for n in args.only.split(",")}
        unknown = names - {name for name, _, _ in FULL}
        if unknown:
            parser.error(f"--only: unknown networks {sorted(unknown)}; known: {sorted({n for n, _, _ in FULL})}")
        configs = [c for c in FULL if c[0] in names]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, input {H} x {W}, {K} classes")
    header = ("| network | format | params (M) | GFLOPs | eval img/s b1 | overhead b1 | eval img/s b8 | "
              "overhead b8 | train step b4 (s) | overhead train |")
    print(header)
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, kwargs, channels_last in configs:
        r = bench(name, kwargs, channels_last, args.repeats)
        print(f"| {r['network']} | {r['format']} | {r['params_M']:.1f} | {r['gflops']:.1f} | "
              f"{r['eval_b1_img_s']:.2f} | {r['eval_b1_overhead']:+.1%} | {r['eval_b8_img_s']:.2f} | "
              f"{r['eval_b8_overhead']:+.1%} | {r['train_b4_s']:.2f} | {r['train_b4_overhead']:+.1%} |", flush=True)


if __name__ == "__main__":
    main()
