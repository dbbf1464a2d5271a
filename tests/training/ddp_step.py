"""One optimizer step of train_network on N CPU processes (DDP, gloo); run by test_ddp.py.

Usage: python ddp_step.py DEVICES OUT_DIR. Every process writes its weights to
OUT_DIR/weights-<rank>.pt after one SGD step with a global mini-batch of 4.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import SyntheticSegmentation, TinyNet  # noqa: E402

from pixelseg.training import TrainingOptions, train_network  # noqa: E402


def one_step(devices: int) -> tuple[dict, dict, list]:
    """Initial weights, weights after one step with a global mini-batch of 4 on ``devices``
    processes, and the validation rows of the history (5 validation images: shards of 3 + 2)."""
    torch.manual_seed(0)
    net = TinyNet()
    data = SyntheticSegmentation(4, 16, 3, seed=0)
    options = TrainingOptions(max_epochs=1, mini_batch_size=4, solver="sgdm", initial_learn_rate=0.5, momentum=0.0,
                              l2_regularization=0.0, shuffle="never", execution_environment="cpu", devices=devices,
                              verbose=False, seed=0)
    initial = {k: v.clone() for k, v in net.state_dict().items()}
    trained = train_network(data, net, options, validation_data=SyntheticSegmentation(5, 16, 3, seed=1))
    validation = trained.history[trained.history.phase == "validation"]
    return initial, trained.network.state_dict(), validation[["loss", "global_accuracy", "mean_iou"]].values.tolist()


def main() -> None:
    devices, out = int(sys.argv[1]), Path(sys.argv[2])
    _, weights, validation = one_step(devices)
    rank = int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", 0)))
    torch.save({"weights": weights, "validation": validation}, out / f"weights-{rank}.pt")


if __name__ == "__main__":
    main()
