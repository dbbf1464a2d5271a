"""Shared fixtures: the real data in ../shared (skipped with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PIXELSEG_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEMO_DATA = ROOT / "pixelseg" / "demo_data" / "camvid_sample"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder ../shared/data next to the project; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it ships beside the project in CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_data() -> Path:
    """The CamVid sample bundled inside the package."""
    return DEMO_DATA


@pytest.fixture()
def tiny_camvid(demo_data, tmp_path):
    """Factory ``tiny_camvid(name="camvid", n_train=4, n_val=2) -> Path``: a CamVid-layout folder
    ``tmp_path / name`` with the first pairs of the bundled sample (no val/ when ``n_val`` is 0)."""
    import shutil

    def make(name: str = "camvid", n_train: int = 4, n_val: int = 2) -> Path:
        root = tmp_path / name
        for split, count in (("train", n_train), ("val", n_val)):
            if not count:
                continue
            for folder in (split, f"{split}annot"):
                (root / folder).mkdir(parents=True)
            for image in sorted((demo_data / split).iterdir())[:count]:
                shutil.copy(image, root / split / image.name)
                label = demo_data / f"{split}annot" / f"{image.stem}.png"
                shutil.copy(label, root / f"{split}annot" / label.name)
        return root

    return make
