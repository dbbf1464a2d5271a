"""evaluate_semantic_segmentation: field cases C04, C07, C08, inputs, streaming, reports."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.evaluation import (
    AbsentClassWarning,
    SemanticSegmentationMetrics,
    confusion_matrix,
    evaluate_semantic_segmentation,
)

TRUTH = np.array([[0, 0, 1], [1, 2, 2]], np.uint8)
PRED = np.array([[0, 1, 1], [1, 2, 0]], np.uint8)
NAMES = ["a", "b", "c"]


def evaluate(pred, truth, **kwargs):
    kwargs.setdefault("verbose", False)
    return evaluate_semantic_segmentation(pred, truth, **kwargs)


def test_hand_computed_tables():
    m = evaluate([PRED], [TRUTH], class_set=NAMES)
    assert isinstance(m, SemanticSegmentationMetrics)
    assert list(m.confusion_matrix.index) == NAMES and list(m.confusion_matrix.columns) == NAMES
    np.testing.assert_array_equal(m.confusion_matrix.to_numpy(), [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    np.testing.assert_allclose(m.normalized_confusion_matrix.to_numpy().sum(axis=1), 1.0)
    row = m.dataset_metrics.iloc[0]
    assert list(m.dataset_metrics.columns) == ["global_accuracy", "mean_accuracy", "mean_iou", "weighted_iou",
                                               "mean_bf_score", "mean_dice"]
    assert row.to_dict() == pytest.approx({"global_accuracy": 4 / 6, "mean_accuracy": 2 / 3, "mean_iou": 0.5,
                                           "weighted_iou": 0.5, "mean_bf_score": (0.5 + 0.8 + 2 / 3) / 3,
                                           "mean_dice": (1 / 2 + 4 / 5 + 2 / 3) / 3})
    np.testing.assert_allclose(m.class_metrics["iou"], [1 / 3, 2 / 3, 1 / 2])
    np.testing.assert_allclose(m.class_metrics["accuracy"], [1 / 2, 1, 1 / 2])
    np.testing.assert_allclose(m.class_metrics["mean_bf_score"], [0.5, 0.8, 2 / 3])
    # Dice = 2 TP / (true + predicted): true [2, 2, 2], predicted [2, 3, 1]
    np.testing.assert_allclose(m.class_metrics["dice"], [2 / 4, 4 / 5, 2 / 3])
    np.testing.assert_allclose(m.class_metrics["precision"], [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(m.class_metrics["recall"], m.class_metrics["accuracy"])
    assert m.image_metrics.shape == (1, 6)
    assert m.image_metrics["mean_dice"].iloc[0] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert m.foreground_metrics is None


def test_two_classes_put_the_foreground_iou_and_f1_first():
    truth = np.array([[0, 1, 1, 1]], np.uint8)
    pred = np.array([[1, 1, 1, 0]], np.uint8)  # CM [[0, 1], [1, 2]]
    m = evaluate([pred], [truth], class_set=["background", "crack"], metrics=["iou", "dice"])
    assert m.foreground_metrics == pytest.approx({"class": "crack", "iou": 0.5, "dice": 2 / 3,
                                                  "precision": 2 / 3, "recall": 2 / 3})
    assert m.report().splitlines()[1] == ("Foreground class 'crack': IoU 0.5000, F1 (Dice) 0.6667, "
                                          "precision 0.6667, recall 0.6667")
    assert m.to_dict()["foreground"]["dice"] == pytest.approx(2 / 3)
    assert list(m.class_metrics.columns) == ["iou", "dice"]
    f1 = evaluate([pred], [truth], class_set=["background", "crack"], metrics="f1")
    assert list(f1.dataset_metrics.columns) == ["mean_dice"]


def test_c04_void_pixels_are_left_out_and_unknown_truth_values_named():
    truth = np.array([[0, 1, 2, 0, 255]], np.uint8)
    pred = np.array([[0, 1, 2, 0, 1]], np.uint8)
    m = evaluate([pred], [truth], class_set=3, metrics=["global_accuracy", "iou"])
    np.testing.assert_allclose(m.class_metrics["iou"], [1, 1, 1])
    assert m.dataset_metrics.iloc[0].to_dict() == {"global_accuracy": 1.0, "mean_iou": 1.0}
    bad = np.array([[0, 1, 7, 0, 255]], np.uint8)
    with pytest.raises(DataError, match=r"image_0.*neither a class index 0..2 nor void \(255\): 7 \(1 pixels\)"):
        evaluate([pred], [bad], class_set=3)


def test_c07_absent_class_nan_policy_and_warning():
    truth = np.array([[0, 1, 0, 0]], np.uint8)
    pred = np.array([[0, 1, 0, 1]], np.uint8)
    with pytest.warns(AbsentClassWarning, match=r"\['car'\].*nan_policy='omit'"):
        m = evaluate([pred], [truth], class_set=["road", "sky", "car"])
    np.testing.assert_allclose(m.class_metrics["iou"], [2 / 3, 1 / 2, np.nan])
    assert m.dataset_metrics["mean_iou"][0] == pytest.approx(0.58333, abs=1e-5)
    matlab = m.with_nan_policy("propagate")
    assert math.isnan(matlab.dataset_metrics["mean_iou"][0])
    with pytest.warns(AbsentClassWarning, match="car"):
        direct = evaluate([pred], [truth], class_set=["road", "sky", "car"], nan_policy="propagate")
    assert math.isnan(direct.dataset_metrics["mean_iou"][0])
    assert "nan_policy='omit'" in m.report() and "nan_policy='propagate'" in matlab.report()
    assert "car" in m.report()


def test_c08_dataset_level_versus_per_image():
    truths = [np.ones((2, 2), np.uint8), np.ones((4, 4), np.uint8)]
    preds = [np.ones((2, 2), np.uint8), np.zeros((4, 4), np.uint8)]
    with pytest.warns(AbsentClassWarning, match="background"):
        m = evaluate(preds, truths, class_set=["background", "foreground"], image_names=["A", "B"])
    assert m.class_metrics.loc["foreground", "iou"] == pytest.approx(0.2)  # 4 / 20
    assert m.image_class_iou.loc["A", "foreground"] == 1.0
    assert m.image_class_iou.loc["B", "foreground"] == 0.0
    assert m.image_class_iou["foreground"].mean() == 0.5
    assert list(m.image_metrics["mean_iou"]) == [1.0, 0.0]
    np.testing.assert_allclose(m.class_image_mean_iou, [0.0, 0.5])  # background: NaN in A, 0 in B


def test_c08_report_and_files_give_both_levels_labelled(tmp_path):
    truths = [np.ones((2, 2), np.uint8), np.ones((4, 4), np.uint8)]
    preds = [np.ones((2, 2), np.uint8), np.zeros((4, 4), np.uint8)]
    with pytest.warns(AbsentClassWarning):
        m = evaluate(preds, truths, class_set=["background", "foreground"], image_names=["A", "B"])
    text = m.report()
    assert "Class IoU at two levels" in text
    row = next(line.split() for line in text.splitlines() if line.split()[:1] == ["foreground"]
               and len(line.split()) == 3)
    assert row == ["foreground", "0.2000", "0.5000"]
    assert "Mean over images of each image's mean IoU: 0.5000" in text
    m.write(tmp_path)
    per_image = pd.read_csv(tmp_path / "image_class_iou.csv", index_col=0)
    assert per_image.loc["A", "foreground"] == 1.0 and per_image.loc["B", "foreground"] == 0.0
    assert math.isnan(per_image.loc["A", "background"])
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert data["class_metrics"]["foreground"]["iou"] == pytest.approx(0.2)
    assert data["per_image_level"]["class_mean_iou"]["foreground"] == pytest.approx(0.5)
    assert data["per_image_level"]["mean_of_image_mean_iou"] == pytest.approx(0.5)


def test_inputs_arrays_tensors_generators_pairs_agree():
    rng = np.random.default_rng(0)
    truths = rng.integers(0, 3, (4, 9, 7)).astype(np.uint8)
    preds = rng.integers(0, 3, (4, 9, 7)).astype(np.uint8)
    base = evaluate(list(preds), list(truths), class_set=3).dataset_metrics
    reads = []

    def lazy(items):
        for x in items:
            reads.append(1)
            yield x

    for p, t in [
        (preds, truths),
        (torch.from_numpy(preds).long(), torch.from_numpy(truths)),
        (lazy(preds), lazy(truths)),
        (list(zip(preds, truths)), None),
    ]:
        pd.testing.assert_frame_equal(evaluate(p, t, class_set=3).dataset_metrics, base)
    assert len(reads) == 8


def test_confusion_matrix_input_gives_the_same_numbers_without_bf():
    rng = np.random.default_rng(1)
    truths = rng.integers(0, 3, (3, 8, 8)).astype(np.uint8)
    preds = rng.integers(0, 3, (3, 8, 8)).astype(np.uint8)
    full = evaluate(list(preds), list(truths), class_set=NAMES)
    cms = np.stack([confusion_matrix(p, t, 3) for p, t in zip(preds, truths)])
    m = evaluate_semantic_segmentation(confusion_matrices=cms, class_set=NAMES, verbose=False)
    assert "mean_bf_score" not in m.dataset_metrics
    pd.testing.assert_frame_equal(m.dataset_metrics, full.dataset_metrics.drop(columns="mean_bf_score"))
    np.testing.assert_allclose(m.image_metrics["mean_iou"], full.image_metrics["mean_iou"])
    blocks = evaluate_semantic_segmentation(confusion_matrices=iter(list(cms)), class_set=NAMES, verbose=False)
    np.testing.assert_array_equal(blocks.confusion, cms.sum(0))
    with pytest.raises(ConfigurationError, match="shape"):
        evaluate_semantic_segmentation(confusion_matrices=np.zeros((2, 2)), class_set=NAMES, verbose=False)


def test_bad_inputs():
    with pytest.raises(DataError, match="1 images but the ground truth holds 2"):
        evaluate([PRED], [TRUTH, TRUTH], class_set=3)
    with pytest.raises(DataError, match="different numbers of images"):
        evaluate(iter([PRED]), iter([TRUTH, TRUTH]), class_set=3)
    with pytest.raises(DataError, match="differ in size"):
        evaluate([PRED], [TRUTH.T], class_set=3)
    with pytest.raises(ConfigurationError, match="class_set is needed"):
        evaluate([PRED], [TRUTH])
    with pytest.raises(ConfigurationError, match="unknown metric 'dise' \\(did you mean 'dice'\\?\\)"):
        evaluate([PRED], [TRUTH], class_set=3, metrics=["dise"])
    with pytest.raises(ConfigurationError, match="nan_policy"):
        evaluate([PRED], [TRUTH], class_set=3, nan_policy="skip")
    with pytest.raises(ConfigurationError, match="no images"):
        evaluate([], [], class_set=3)


def test_datastores_names_and_class_sets(tmp_path):
    from pixelseg.data import ClassSet, PixelLabelDatastore
    from pixelseg.utils.atomic import save_png

    classes = ClassSet(NAMES, label_ids=[10, 20, 30], void_ids=[0])
    (tmp_path / "t").mkdir()
    (tmp_path / "p").mkdir()
    raw = np.array([0, 10, 20, 30], np.uint8)[np.array([[1, 1, 2], [2, 3, 0]])]
    save_png(raw, tmp_path / "t" / "img_1.png")
    save_png(np.array([[0, 1, 1], [1, 2, 0]], np.uint8), tmp_path / "p" / "img_1.png")
    truth = PixelLabelDatastore(tmp_path / "t", classes)
    pred = PixelLabelDatastore(tmp_path / "p", ClassSet(NAMES))
    m = evaluate(pred, truth)
    assert list(m.image_metrics.index) == ["img_1.png"]
    assert list(m.class_metrics.index) == NAMES
    np.testing.assert_array_equal(m.confusion.sum(), 5)  # one void pixel left out
    with pytest.raises(ConfigurationError, match="differ"):
        evaluate(pred, truth, class_set=["x", "y", "z"])


def test_report_and_files(tmp_path):
    m = evaluate([PRED, TRUTH], [TRUTH, TRUTH], class_set=NAMES)
    text = m.report()
    assert "Data set metrics" in text and "Class metrics" in text and "mean_iou" in text
    assert "nan_policy='omit'" in text
    written = m.write(tmp_path / "out")
    names = {p.name for p in written}
    assert {"metrics.json", "dataset_metrics.csv", "class_metrics.csv", "image_metrics.csv",
            "confusion_matrix.png"} <= names
    data = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert data["nan_policy"] == "omit"
    assert data["dataset_metrics"]["mean_iou"] == pytest.approx(m.dataset_metrics["mean_iou"][0])
    assert data["worst_images_by_mean_iou"][0]["image"] == "image_0"
    assert pd.read_csv(tmp_path / "out" / "class_metrics.csv", index_col=0).shape == (3, 6)
    assert (tmp_path / "out" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    before = (tmp_path / "out" / "metrics.json").read_text()
    with pytest.raises(FileExistsError, match="overwrite"):
        m.with_nan_policy("propagate").write(tmp_path / "out")
    assert (tmp_path / "out" / "metrics.json").read_text() == before
    m.with_nan_policy("propagate").write(tmp_path / "out", overwrite=True)
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["nan_policy"] == "propagate"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp files left


def test_absent_class_is_null_in_json(tmp_path):
    with pytest.warns(AbsentClassWarning):
        m = evaluate([np.zeros((4, 4), np.uint8)], [np.zeros((4, 4), np.uint8)], class_set=["bg", "fg"])
    m.write(tmp_path)
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert data["class_metrics"]["fg"]["iou"] is None
    assert data["absent_classes"]["absent"] == ["fg"]


def test_camvid_labels_against_themselves(shared_data):
    from pixelseg.data import PixelLabelDatastore
    from pixelseg.data.formats.camvid import camvid_class_set

    labels = PixelLabelDatastore(shared_data / "camvid" / "valannot", camvid_class_set()).subset([0, 1])
    with pytest.raises(DataError, match=r"prediction holds values that are not class indices 0..10: 255"):
        evaluate(labels, labels)  # a prediction has no void
    preds = [np.where(t == 255, 0, t) for t in labels]  # void truth pixels are left out anyway
    m = evaluate(preds, labels, metrics=["global_accuracy", "accuracy", "iou", "weighted_iou"])
    assert list(m.image_metrics.index) == [f.name for f in labels.files]
    assert m.dataset_metrics.iloc[0].to_dict() == pytest.approx(
        {"global_accuracy": 1, "mean_accuracy": 1, "mean_iou": 1, "weighted_iou": 1})


def test_dataset_of_pairs_without_iter_and_paired_names():
    class Pairs:  # a torch-Dataset-like object: __len__ and __getitem__ only
        pair_names = ["x", "y"]

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (PRED, TRUTH) if i < 2 else (_ for _ in ()).throw(IndexError(i))

    m = evaluate(Pairs(), None, class_set=NAMES)
    assert list(m.image_metrics.index) == ["x", "y"]
    np.testing.assert_array_equal(m.confusion, 2 * np.array([[1, 1, 0], [0, 2, 0], [1, 0, 1]]))


def test_streaming_memory_does_not_grow_with_the_number_of_images():
    import tracemalloc

    def images(n, seed):
        rng = np.random.default_rng(seed)
        for _ in range(n):
            yield rng.integers(0, 3, (64, 64)).astype(np.uint8)

    def peak(n):
        tracemalloc.start()
        evaluate(images(n, 0), images(n, 1), class_set=3)
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    small, large = peak(20), peak(320)
    # the 300 extra image pairs hold 2.5 MB of pixels; only a small row per image may stay
    assert large - small < 300_000, (small, large)


def test_one_label_map_each_side():
    m = evaluate(PRED, TRUTH, class_set=NAMES)
    assert m.num_images == 1
    np.testing.assert_allclose(m.class_metrics["iou"], [1 / 3, 2 / 3, 1 / 2])
    with pytest.raises(DataError, match="differ in size"):
        evaluate(PRED, TRUTH[:1], class_set=NAMES)


@pytest.mark.parametrize("prediction, problem", [
    (np.zeros((0, 0), np.float32), r"image_0: the prediction is empty \(shape \(0, 0\)"),  # the attack's input
    (np.zeros((0, 0), np.uint8), r"image_0: the prediction is empty"),
    (np.full((4, 4), 0.5, np.float32), r"image_0: the prediction holds float32 values of shape \(4, 4\), not class"),
    (np.zeros((0, 4, 4), np.float32), r"image_0: the prediction is empty \(shape \(0, 4, 4\)"),
    (np.full((2, 4, 4), np.nan, np.float32), r"image_0: the prediction scores hold NaN"),
    (np.array([["a"] * 4] * 4), r"image_0: the prediction holds <U1 values"),
    (np.array([[None] * 4] * 4), r"image_0: the prediction holds object values"),
])
def test_bad_predictions_are_data_errors_naming_the_image(prediction, problem):
    truth = np.zeros((4, 4), np.uint8) if prediction.size or prediction.ndim == 3 else np.zeros((0, 0), np.uint8)
    with pytest.raises(DataError, match=problem):
        evaluate_semantic_segmentation([prediction], [truth], class_set=2, verbose=False)


def test_scores_with_a_class_axis_are_evaluated_like_their_argmax_bf_score_included():
    scores = np.zeros((2, 4, 4), np.float32)
    scores[1, :, 2:] = 1.0
    truth = np.zeros((4, 4), np.uint8)
    truth[:, 2:] = 1
    from_scores = evaluate_semantic_segmentation([scores], [truth], class_set=2, verbose=False)
    from_labels = evaluate_semantic_segmentation([scores.argmax(0).astype(np.uint8)], [truth], class_set=2,
                                                 verbose=False)
    pd.testing.assert_frame_equal(from_scores.dataset_metrics, from_labels.dataset_metrics)
    assert from_scores.dataset_metrics["mean_iou"].item() == 1.0
