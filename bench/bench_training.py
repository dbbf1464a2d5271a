"""Training throughput: train_network (Lightning) against a plain PyTorch loop, same run.

Same network (DeepLab v3+ on EfficientNet-Lite0, the demo network, random init; or
``--network unet-small``, where per-step framework overhead weighs most), same
synthetic data (N images of H x W, 11 classes, 5 % void), same mini-batch and optimizer
(AdamW, constant learning rate), same number of epochs. Each contender is timed over the
whole call (setup included) after one untimed warm-up epoch of the plain loop, and reported
as images per second. Baselines: a plain loop as a user writes it (contiguous memory
format), and the same loop with channels-last tensors (what train_network does).

    OMP_NUM_THREADS=2 .venv/bin/python bench/bench_training.py [--images 48] [--size 96] [--epochs 2]

Target (issue 8): train_network / plain loop >= 0.9.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F


class Synthetic(torch.utils.data.Dataset):
    def __init__(self, count: int, size: int, num_classes: int = 11) -> None:
        g = torch.Generator().manual_seed(0)
        self.images = torch.rand(count, 3, size, size, generator=g)
        self.labels = torch.randint(0, num_classes, (count, size, size), generator=g)
        self.labels[torch.rand(count, size, size, generator=g) < 0.05] = 255

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


NETWORKS = {
    "deeplabv3plus": {"name": "deeplabv3plus", "backbone": "efficientnet_lite0"},
    # A small classic U-Net: per-step framework overhead weighs most here.
    "unet-small": {"name": "unet", "encoder_depth": 3, "num_first_encoder_filters": 8},
}
NETWORK = "deeplabv3plus"


def make_net(num_classes: int = 11):
    from pixelseg.models import create_network

    torch.manual_seed(0)
    return create_network(num_classes=num_classes, **NETWORKS[NETWORK])


def plain_loop(ds, batch: int, epochs: int, lr: float, channels_last: bool) -> float:
    net = make_net()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net.to(memory_format=fmt).train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    g = torch.Generator().manual_seed(0)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, generator=g)
    start = time.perf_counter()
    for _ in range(epochs):
        for images, labels in loader:
            images = images.contiguous(memory_format=fmt)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(images), labels, ignore_index=255)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def pixelseg_train(ds, batch: int, epochs: int, lr: float) -> float:
    from pixelseg.training import TrainingOptions, train_network

    net = make_net()
    options = TrainingOptions(solver="adamw", initial_learn_rate=lr, l2_regularization=1e-4, max_epochs=epochs,
                              mini_batch_size=batch, shuffle="every-epoch", verbose=False, execution_environment="cpu")
    start = time.perf_counter()
    train_network(ds, net, options)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--network", choices=sorted(NETWORKS), default="deeplabv3plus")
    args = parser.parse_args()
    global NETWORK
    NETWORK = args.network
    ds = Synthetic(args.images, args.size)
    lr = 1e-3
    plain_loop(ds, args.batch, 1, lr, channels_last=False)  # warm-up (allocator, kernels, imports)
    pixelseg_train(ds, args.batch, 1, lr)  # warm-up (Lightning imports)
    contenders = {
        "plain loop (contiguous)": lambda: plain_loop(ds, args.batch, args.epochs, lr, channels_last=False),
        "plain loop (channels-last)": lambda: plain_loop(ds, args.batch, args.epochs, lr, channels_last=True),
        "train_network": lambda: pixelseg_train(ds, args.batch, args.epochs, lr),
    }
    best = {name: float("inf") for name in contenders}
    for _ in range(args.repeats):  # interleaved, best of N: robust to a shared, noisy machine
        for name, run in contenders.items():
            best[name] = min(best[name], run())
    images = args.images * args.epochs
    base = images / best["plain loop (contiguous)"]
    print(f"training throughput, {NETWORKS[NETWORK]}, {args.images} images {args.size}x{args.size}, "
          f"batch {args.batch}, {args.epochs} epochs, torch threads {torch.get_num_threads()}")
    print(f"{'contender':<28} {'seconds':>8} {'images/s':>9} {'ratio':>6}")
    for name, seconds in best.items():
        rate = images / seconds
        print(f"{name:<28} {seconds:8.2f} {rate:9.2f} {rate / base:6.2f}")
    ratio = (images / best["train_network"]) / base
    ratio_cl = best["plain loop (channels-last)"] / best["train_network"]
    print(f"train_network / plain loop = {ratio:.2f} (target >= 0.9); vs channels-last plain loop = {ratio_cl:.2f}")


if __name__ == "__main__":
    main()
