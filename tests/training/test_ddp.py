"""DDP through Lightning: one step with global batch B on 2 CPU processes == 1 process with B,
and validation split over the processes gives the metrics of one process.

The network has no batch norm (SyncBatchNorm needs GPUs). Runs the script ddp_step.py in
subprocesses, because Lightning's "ddp" strategy starts the other processes by re-running the
script; takes 20-60 s on 2 shared cores, hence marked slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SCRIPT = Path(__file__).with_name("ddp_step.py")


def run(devices: int, out: Path) -> list[dict]:
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key in ("MASTER_ADDR", "MASTER_PORT", "RANK", "LOCAL_RANK", "WORLD_SIZE", "NODE_RANK"):
        env.pop(key, None)
    result = subprocess.run([sys.executable, str(SCRIPT), str(devices), str(out)], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    files = sorted(out.glob("weights-*.pt"))
    assert len(files) == devices, (files, result.stderr[-2000:])
    return [torch.load(f, weights_only=True) for f in files]


@pytest.mark.slow
def test_two_processes_equal_one_process_with_the_same_global_batch(tmp_path):
    from .ddp_step import one_step

    initial, single, validation = one_step(devices=1)
    assert any(not torch.allclose(initial[k], single[k]) for k in single)  # a step happened
    replicas = run(2, tmp_path / "two")
    for replica in replicas:
        for key, value in single.items():
            assert torch.allclose(replica["weights"][key], value, atol=1e-6), key
        # validation shared out (3 + 2 images) and summed: the same metrics on every process
        np.testing.assert_allclose(replica["validation"], validation, rtol=1e-5)
