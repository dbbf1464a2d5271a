"""Small CamVid-layout folders copied from the bundled sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def tiny_camvid(src: Path, dst: Path, n_train: int = 4, n_val: int = 2) -> Path:
    """``dst`` with the first ``n_train`` train and ``n_val`` val pairs of ``src`` (no val/ when 0)."""
    for split, n in (("train", n_train), ("val", n_val)):
        if not n:
            continue
        (dst / split).mkdir(parents=True)
        (dst / f"{split}annot").mkdir(parents=True)
        for image in sorted((src / split).iterdir())[:n]:
            shutil.copy(image, dst / split / image.name)
            label = src / f"{split}annot" / f"{image.stem}.png"
            shutil.copy(label, dst / f"{split}annot" / label.name)
    return dst


@pytest.fixture()
def small_camvid(demo_data, tmp_path) -> Path:
    """4 train + 2 val pairs of the bundled CamVid sample."""
    return tiny_camvid(demo_data, tmp_path / "camvid")
