"""BF (boundary F1) score: boundaries, tolerance, edge cases, against a direct implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage as ndi

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.evaluation import bf_score, bf_threshold
from pixelseg.evaluation.bfscore import disk_half_widths, label_boundaries


def square(size: int, top: int, left: int, side: int = 10) -> np.ndarray:
    labels = np.zeros((size, size), np.uint8)
    labels[top:top + side, left:left + side] = 1
    return labels


def reference_bf(pred, truth, k, threshold):
    """The straightforward way: per class, erosion and two distance transforms; the prediction
    is not scored where the truth is void (outside 0..k-1)."""
    cross = ndi.generate_binary_structure(2, 1)
    out = np.full(k, np.nan)
    scored = (truth >= 0) & (truth < k)
    for c in range(k):
        pm, tm = (pred == c) & scored, truth == c
        pb = pm & ~ndi.binary_erosion(pm, cross, border_value=0)
        tb = tm & ~ndi.binary_erosion(tm, cross, border_value=0)
        if not pb.any() and not tb.any():
            continue
        if not pb.any() or not tb.any():
            out[c] = 0.0
            continue
        precision = np.mean(ndi.distance_transform_edt(~tb)[pb] ** 2 < threshold**2)
        recall = np.mean(ndi.distance_transform_edt(~pb)[tb] ** 2 < threshold**2)
        out[c] = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return out


def test_boundaries_of_a_square_and_of_the_image_border():
    labels = square(20, 5, 5)
    edge = label_boundaries(labels)
    assert (edge & (labels == 1)).sum() == 36  # 10 x 10 square: 4 * 10 - 4
    assert (edge & (labels == 0)).sum() == 76 + 40  # image border + 4-neighbours of the square
    assert label_boundaries(np.zeros((2, 5), np.uint8)).all()  # every pixel touches the border


def test_threshold_is_075_percent_of_the_diagonal():
    assert bf_threshold((360, 480)) == pytest.approx(4.5)
    np.testing.assert_array_equal(disk_half_widths(4.5), [4, 4, 4, 3, 2])  # dy^2 + dx^2 < 20.25
    np.testing.assert_array_equal(disk_half_widths(1.0), [0])  # distance 1 does not match at theta 1
    assert len(disk_half_widths(0.0)) == 0


@pytest.mark.parametrize("size, expected", [(96, 1.0), (92, 0.5)])
def test_one_pixel_shift_just_inside_and_just_outside_the_default_tolerance(size, expected):
    # theta = 1.018 px at 96 x 96 (a 1 px shift matches), 0.976 px at 92 x 92 (it does not:
    # only the 18 points on the shared top and bottom rows match, P = R = 18 / 36).
    truth = square(size, 40, 40)
    pred = square(size, 40, 41)
    assert (bf_threshold(truth.shape) > 1) == (expected == 1.0)
    assert bf_score(pred, truth, 2)[1] == pytest.approx(expected)


def test_explicit_threshold_and_two_pixel_shift():
    truth, pred = square(30, 10, 10), square(30, 10, 12)
    assert bf_score(pred, truth, 2, threshold=2.01)[1] == pytest.approx(1.0)
    # theta 1.5 (d^2 < 2.25): of the 36 predicted boundary points, 9 on the top row match
    # (8 shared, 1 at distance 1), 9 on the bottom row, and 2 of the left column (1 px below /
    # above the truth's top / bottom row); the right column is 2 px away. Recall likewise.
    assert bf_score(pred, truth, 2, threshold=1.5)[1] == pytest.approx(20 / 36)


def test_edge_cases_absent_from_both_is_nan_absent_from_one_is_zero():
    truth = np.zeros((8, 8), np.uint8)
    truth[2:5, 2:5] = 1
    pred = np.zeros((8, 8), np.uint8)
    pred[2:5, 2:5] = 2
    bf = bf_score(pred, truth, 4)
    assert bf[0] == 1.0  # background identical
    assert bf[1] == 0.0 and bf[2] == 0.0  # in truth only / in prediction only
    assert math.isnan(bf[3])  # in neither


def test_void_truth_pixels_belong_to_no_class():
    truth = np.full((6, 6), 255, np.uint8)
    truth[:, :3] = 0
    pred = np.zeros((6, 6), np.uint8)
    assert np.allclose(bf_score(pred, truth, 1, threshold=0.5), reference_bf(pred, truth, 1, 0.5))
    assert bf_score(pred, truth, 1, threshold=0.5)[0] == 1.0  # what is predicted over void is not scored


def test_c04_void_pixels_leave_the_bf_score():
    truth = np.array([[0, 1, 2, 0, 255]], np.uint8)
    pred = np.array([[0, 1, 2, 0, 1]], np.uint8)
    np.testing.assert_array_equal(bf_score(pred, truth, 3), [1.0, 1.0, 1.0])
    assert pred[0, 4] == 1  # the caller's array is not changed


def test_prediction_across_a_void_band_ends_where_the_truth_does():
    # road | 6 columns of void | car; the network splits the band in the middle. Theta 1.5 px:
    # unmasked, the predicted edges lie 3 columns from the true ones and nothing would match.
    truth = np.zeros((12, 24), np.int64)
    truth[:, 9:15] = 255
    truth[:, 15:] = 1
    pred = np.zeros((12, 24), np.int64)
    pred[:, 12:] = 1
    np.testing.assert_array_equal(bf_score(pred, truth, 2, threshold=1.5), [1.0, 1.0])


def test_hand_computed_tiny_image():
    truth = np.array([[0, 0, 1], [1, 2, 2]], np.uint8)
    pred = np.array([[0, 1, 1], [1, 2, 0]], np.uint8)
    # theta = 0.027 px: only coinciding points match; every pixel is a boundary pixel
    np.testing.assert_allclose(bf_score(pred, truth, 3), [0.5, 0.8, 2 / 3])


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_direct_implementation(seed):
    rng = np.random.default_rng(seed)
    k = [3, 5, 70][seed % 3]
    h, w = rng.integers(5, 40, 2)
    truth = np.kron(rng.integers(0, k, (h // 4 + 1, w // 4 + 1)), np.ones((4, 4), int))[:h, :w].astype(np.uint8)
    pred = np.roll(truth, int(rng.integers(-3, 4)), axis=seed % 2).copy()
    pred[rng.random(pred.shape) < 0.1] = rng.integers(0, k)
    truth[rng.random(truth.shape) < 0.05] = 255
    threshold = float(rng.uniform(0.5, 4.0))
    np.testing.assert_allclose(bf_score(pred, truth, k, threshold), reference_bf(pred, truth, k, threshold))


def test_bad_input():
    with pytest.raises(DataError, match="same size"):
        bf_score(np.zeros((3, 4)), np.zeros((4, 3)), 2)
    with pytest.raises(ConfigurationError, match="threshold"):
        bf_score(np.zeros((3, 4), np.uint8), np.zeros((3, 4), np.uint8), 2, threshold=-1)


def test_work_buffers_are_safe_across_sizes_threads_and_large_images(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from pixelseg.evaluation import bfscore

    rng = np.random.default_rng(7)
    pairs = [(rng.integers(0, 3, shape).astype(np.uint8), rng.integers(0, 3, shape).astype(np.uint8))
             for shape in [(20, 30), (31, 17), (20, 30)]]
    expected = [reference_bf(p, t, 3, 2.5) for p, t in pairs]
    serial = [bf_score(p, t, 3, 2.5) for p, t in pairs]
    with ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(lambda pt: bf_score(pt[0], pt[1], 3, 2.5), pairs * 2))
    monkeypatch.setattr(bfscore, "_KEEP_BUFFERS_UP_TO", 0)
    unbuffered = [bf_score(p, t, 3, 2.5) for p, t in pairs]
    for got in (serial, threaded[:3], threaded[3:], unbuffered):
        np.testing.assert_allclose(np.stack(got), np.stack(expected))
