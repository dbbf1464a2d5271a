"""Confusion matrices: hand-computed counts, void, bad values, torch and numpy, torchmetrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.evaluation import ConfusionMatrixAccumulator, confusion_matrix

TRUTH = np.array([[0, 0, 1], [1, 2, 2]], np.uint8)
PRED = np.array([[0, 1, 1], [1, 2, 0]], np.uint8)
CM = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 1]])


def test_hand_computed_counts_rows_truth_columns_prediction():
    np.testing.assert_array_equal(confusion_matrix(PRED, TRUTH, 3), CM)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64, np.uint16])
def test_every_integer_dtype_gives_the_same_counts(dtype):
    np.testing.assert_array_equal(confusion_matrix(PRED.astype(dtype), TRUTH.astype(dtype), 3), CM)


def test_c04_void_pixels_leave_every_count():
    truth = np.array([0, 1, 2, 0, 255], np.uint8)
    pred = np.array([0, 1, 2, 0, 1], np.uint8)
    np.testing.assert_array_equal(confusion_matrix(pred, truth, 3), np.diag([2, 1, 1]))
    acc = ConfusionMatrixAccumulator(3)
    acc.update(pred, truth)
    result = acc.compute()
    assert result["global_accuracy"] == 1.0 and result["mean_iou"] == 1.0


def test_c04_truth_value_neither_class_nor_void_is_an_error_naming_it():
    truth = np.array([0, 1, 7, 0, 255], np.uint8)
    with pytest.raises(DataError, match=r"neither a class.*7 \(1 pixels\)"):
        confusion_matrix(np.zeros(5, np.uint8), truth, 3, source="a.png")
    with pytest.raises(DataError, match="a.png"):
        confusion_matrix(np.zeros(5, np.uint8), truth.astype(np.int64), 3, source="a.png")


def test_accumulator_leaves_out_truth_values_outside_the_classes():
    acc = ConfusionMatrixAccumulator(3)
    acc.update(np.array([0, 1, 2, 0], np.uint8), np.array([0, 9, 2, 255], np.uint8))
    np.testing.assert_array_equal(acc.confusion_matrix, np.diag([1, 0, 1]))


def test_prediction_outside_the_classes_is_an_error_naming_the_values():
    with pytest.raises(DataError, match=r"not class indices 0..2: 3 \(1 pixels\), 9 \(2 pixels\)"):
        confusion_matrix(np.array([0, 3, 9, 9], np.uint8), np.zeros(4, np.uint8), 3)
    acc = ConfusionMatrixAccumulator(3)
    with pytest.raises(DataError, match="not class indices"):
        acc.update(torch.tensor([0, 5]), torch.tensor([0, 1]))


def test_sizes_that_differ_are_an_error():
    with pytest.raises(DataError, match=r"differ in size.*\(2, 3\).*\(3, 2\)"):
        confusion_matrix(PRED, TRUTH.reshape(3, 2), 3)


def test_bad_arguments():
    with pytest.raises(ConfigurationError, match="num_classes"):
        ConfusionMatrixAccumulator(0)
    with pytest.raises(ConfigurationError, match="void=1 is a class index"):
        ConfusionMatrixAccumulator(3, void=1)
    with pytest.raises(ConfigurationError, match="integer class indices"):
        confusion_matrix(PRED.astype(np.float32), TRUTH, 3)


def test_tensors_batches_and_scores():
    acc = ConfusionMatrixAccumulator(3)
    acc.update(torch.from_numpy(PRED).long()[None], torch.from_numpy(TRUTH).long()[None])
    np.testing.assert_array_equal(acc.confusion_matrix, CM)
    scores = torch.nn.functional.one_hot(torch.from_numpy(PRED).long(), 3).permute(2, 0, 1)[None].float()
    acc.reset()
    acc.update(scores, torch.from_numpy(TRUTH)[None])  # N x K x H x W scores: argmax over K
    np.testing.assert_array_equal(acc.confusion_matrix, CM)
    acc.update(PRED, TRUTH)  # numpy and tensors mix
    np.testing.assert_array_equal(acc.confusion_matrix, 2 * CM)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_counts_stay_on_the_gpu():
    acc = ConfusionMatrixAccumulator(3)
    acc.update(torch.from_numpy(PRED).cuda(), torch.from_numpy(TRUTH).long().cuda())
    assert acc._tensor.device.type == "cuda"
    np.testing.assert_array_equal(acc.confusion_matrix, CM)


@pytest.mark.parametrize("k", [2, 11, 15, 16, 40, 255])
def test_matches_torchmetrics_on_random_data(k):
    from torchmetrics.classification import MulticlassConfusionMatrix, MulticlassJaccardIndex

    rng = np.random.default_rng(k)
    truth = rng.integers(0, k, (3, 24, 20)).astype(np.uint8)
    pred = rng.integers(0, k, (3, 24, 20)).astype(np.uint8)
    truth[rng.random(truth.shape) < 0.1] = 255
    reference = MulticlassConfusionMatrix(k, ignore_index=255)
    acc_np, acc_torch = ConfusionMatrixAccumulator(k), ConfusionMatrixAccumulator(k)
    for p, t in zip(pred, truth):
        reference.update(torch.from_numpy(p).long(), torch.from_numpy(t).long())
        acc_np.update(p, t)
        acc_torch.update(torch.from_numpy(p).long(), torch.from_numpy(t).long())
    expected = reference.compute().numpy()
    np.testing.assert_array_equal(acc_np.confusion_matrix, expected)
    np.testing.assert_array_equal(acc_torch.confusion_matrix, expected)
    if k <= 40:  # every class present: IoU has no 0/0 case where conventions differ
        jaccard = MulticlassJaccardIndex(k, average="none", ignore_index=255)
        jaccard.update(torch.from_numpy(pred).long(), torch.from_numpy(truth).long())
        from pixelseg.evaluation import class_iou

        np.testing.assert_allclose(class_iou(acc_np.confusion_matrix), jaccard.compute().numpy(), rtol=1e-6)
