"""Metric definitions (MATLAB evaluateSemanticSegmentation) on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pixelseg.errors import ConfigurationError
from pixelseg.evaluation import (
    class_accuracy,
    class_iou,
    dataset_metrics_from_confusion,
    global_accuracy,
    weighted_iou,
)
from pixelseg.evaluation.metrics import nan_mean

# truth [[0,0,1],[1,2,2]] vs prediction [[0,1,1],[1,2,0]]
CM = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 1]])


def test_hand_computed_metrics():
    assert global_accuracy(CM) == pytest.approx(4 / 6)
    np.testing.assert_allclose(class_accuracy(CM), [1 / 2, 1, 1 / 2])
    np.testing.assert_allclose(class_iou(CM), [1 / 3, 2 / 3, 1 / 2])
    assert weighted_iou(CM) == pytest.approx((2 * 1 / 3 + 2 * 2 / 3 + 2 * 1 / 2) / 6)
    d = dataset_metrics_from_confusion(CM)
    assert d == pytest.approx({"global_accuracy": 4 / 6, "mean_accuracy": 2 / 3, "mean_iou": 0.5, "weighted_iou": 0.5})


def test_nan_cases():
    cm = np.array([[3, 1, 0], [0, 0, 0], [0, 0, 0]])  # class 1 predicted only, class 2 absent
    np.testing.assert_allclose(class_accuracy(cm), [0.75, np.nan, np.nan])
    np.testing.assert_allclose(class_iou(cm), [0.75, 0.0, np.nan])
    assert weighted_iou(cm) == pytest.approx(0.75)
    assert math.isnan(global_accuracy(np.zeros((2, 2), int)))


def test_c07_mean_iou_omit_and_propagate():
    # truth [0, 1, 0, 0], prediction [0, 1, 0, 1], 3 classes
    cm = np.array([[2, 1, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(class_iou(cm), [2 / 3, 1 / 2, np.nan])
    assert dataset_metrics_from_confusion(cm)["mean_iou"] == pytest.approx(0.58333, abs=1e-5)
    assert math.isnan(dataset_metrics_from_confusion(cm, nan_policy="propagate")["mean_iou"])


def test_nan_mean_policies():
    values = np.array([[1.0, np.nan, 0.5], [np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(nan_mean(values, "omit"), [0.75, np.nan])
    np.testing.assert_allclose(nan_mean(values, "propagate"), [np.nan, np.nan])
    with pytest.raises(ConfigurationError, match="nan_policy"):
        nan_mean(values, "ignore")


def test_batched_confusion_matrices():
    stack = np.stack([CM, np.eye(3, dtype=int)])
    np.testing.assert_allclose(class_iou(stack), [[1 / 3, 2 / 3, 1 / 2], [1, 1, 1]])
    np.testing.assert_allclose(global_accuracy(stack), [4 / 6, 1])
