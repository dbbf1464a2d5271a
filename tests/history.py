"""Comparing training histories of two runs: every column but the wall-clock one."""

from __future__ import annotations

import numpy as np
import pandas as pd


def assert_same_history(actual: pd.DataFrame, expected: pd.DataFrame, **kwargs) -> None:
    """``actual`` equals ``expected`` in every column but ``time_elapsed`` (wall time differs
    between runs), and ``actual``'s times never go back, across a resume too."""
    times = actual["time_elapsed"].to_numpy(dtype=float)
    assert (np.diff(times[~np.isnan(times)]) >= 0).all(), times
    pd.testing.assert_frame_equal(actual.drop(columns="time_elapsed"),
                                  expected.drop(columns="time_elapsed", errors="ignore"), **kwargs)
