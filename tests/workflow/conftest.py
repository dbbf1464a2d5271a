"""A small CamVid-layout folder for the jobs."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture()
def small_camvid(tiny_camvid) -> Path:
    """4 train + 2 val pairs of the bundled CamVid sample."""
    return tiny_camvid()
