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
