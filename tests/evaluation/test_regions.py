"""``evaluate_semantic_segmentation(..., regions=...)``: pixels outside the regions count
nowhere, in the confusion matrix, every metric and the BF score (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixelseg import evaluate_semantic_segmentation
from pixelseg.errors import ConfigurationError, DataError

TRUTH = np.array([[0, 0, 1, 1],
                  [0, 0, 1, 1],
                  [0, 0, 1, 1],
                  [0, 0, 0, 0]], np.uint8)  # fmt: skip
PRED = np.array([[1, 0, 1, 1],
                 [1, 0, 1, 1],
                 [0, 0, 1, 0],
                 [1, 1, 1, 1]], np.uint8)  # fmt: skip
REGION = np.zeros((4, 4), bool)
REGION[:3, 1:] = True  # rows 0..2, columns 1..3: 9 pixels; as a rectangle (x, y, w, h) = (1, 0, 3, 3)


def _evaluate(pred=PRED, **kwargs):
    return evaluate_semantic_segmentation([pred], [TRUTH], class_set=["a", "b"], verbose=False, **kwargs)


def test_outside_pixels_leave_the_confusion_matrix_and_the_iou():
    """Inside: truth a = column 1 (3 px, all predicted a); truth b = columns 2..3 (6 px,
    one predicted a at row 2, column 3). Confusion [[3, 0], [1, 5]]: IoU a = 3 / 4 = 0.75,
    IoU b = 5 / 6, mean 0.7917; global accuracy 8 / 9.

    Without the region: truth a has 10 px (4 predicted a, 6 predicted b), truth b 6 px
    (5 b, 1 a): [[4, 6], [1, 5]], IoU a = 4 / 11, IoU b = 5 / 12."""
    inside = _evaluate(regions=REGION)
    assert inside.confusion_matrix.to_numpy().tolist() == [[3, 0], [1, 5]]
    assert inside.class_metrics["iou"].tolist() == pytest.approx([0.75, 5 / 6])
    assert inside.dataset_metrics["mean_iou"][0] == pytest.approx((0.75 + 5 / 6) / 2)
    assert inside.dataset_metrics["global_accuracy"][0] == pytest.approx(8 / 9)
    everything = _evaluate()
    assert everything.confusion_matrix.to_numpy().tolist() == [[4, 6], [1, 5]]
    assert everything.class_metrics["iou"].tolist() == pytest.approx([4 / 11, 5 / 12])


def test_every_form_of_region_gives_the_same_result(tmp_path):
    Image.fromarray(REGION.astype(np.uint8) * 255).save(tmp_path / "fov.png")
    expected = [[3, 0], [1, 5]]
    for regions in (REGION, REGION.astype(np.uint8), (1, 0, 3, 3), tmp_path / "fov.png", str(tmp_path / "fov.png"),
                    [REGION]):
        assert _evaluate(regions=regions).confusion_matrix.to_numpy().tolist() == expected, regions
    assert _evaluate(regions=[None]).confusion_matrix.to_numpy().tolist() == [[4, 6], [1, 5]]


def test_predictions_void_outside_as_semanticseg_writes_them():
    """The prediction's outside holds 255 (or anything else): the metrics, BF score
    included, are the same as with any other values there."""
    void_outside = np.where(REGION, PRED, 255).astype(np.uint8)
    other_outside = np.where(REGION, PRED, 1 - PRED).astype(np.uint8)
    a, b = _evaluate(void_outside, regions=REGION), _evaluate(other_outside, regions=REGION)
    assert a.confusion_matrix.to_numpy().tolist() == [[3, 0], [1, 5]]
    assert a.image_metrics["mean_bf_score"].tolist() == pytest.approx(b.image_metrics["mean_bf_score"].tolist())
    assert a.class_metrics["mean_bf_score"].tolist() == pytest.approx(b.class_metrics["mean_bf_score"].tolist())
    with pytest.raises(DataError, match="255 is void: a prediction made with a region of interest"):
        _evaluate(void_outside)


def test_bf_score_treats_the_outside_as_void():
    """A boundary drawn only outside the region is not counted: a prediction equal to the
    truth inside and different outside has BF 1 for every class inside."""
    pred = np.where(REGION, TRUTH, 1 - TRUTH).astype(np.uint8)
    assert _evaluate(pred, regions=REGION).class_metrics["mean_bf_score"].tolist() == pytest.approx([1.0, 1.0])
    assert _evaluate(pred).class_metrics["mean_bf_score"].min() < 1


def test_region_errors():
    with pytest.raises(ConfigurationError, match="regions: 2 regions given for 1 images"):
        _evaluate(regions=[REGION, REGION])
    with pytest.raises(DataError, match="image_0: regions: the region mask is 3 x 3"):
        _evaluate(regions=np.ones((3, 3), bool))
    with pytest.raises(ConfigurationError, match="regions need label maps"):
        evaluate_semantic_segmentation(confusion_matrices=np.eye(2, dtype=int), class_set=2, regions=REGION,
                                       verbose=False)
