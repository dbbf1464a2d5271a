"""The evaluate job: folders paired with combine(label_prefix=...), its messages and results."""

from __future__ import annotations

import numpy as np
import pytest

from pixelseg.data import ClassSet, ImageDatastore, PixelLabelDatastore, combine
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.atomic import save_png
from pixelseg.workflow.evaluate import paired_label_folders, run_evaluate

CLASSES = ClassSet(["road", "sky", "car"])


@pytest.fixture()
def folders(tmp_path):
    (tmp_path / "truth").mkdir()
    (tmp_path / "pred").mkdir()
    rng = np.random.default_rng(0)
    for i in (10, 2, 1):
        truth = rng.integers(0, 3, (6, 8)).astype(np.uint8)
        save_png(truth, tmp_path / "truth" / f"img_{i}.png")
        save_png(np.full_like(truth, i % 3), tmp_path / "pred" / f"pred_img_{i}.png")
    return tmp_path


def test_combine_label_prefix_pairs_semanticseg_outputs_with_their_images(folders):
    paired = combine(ImageDatastore(folders / "truth"), PixelLabelDatastore(folders / "pred", CLASSES),
                     label_prefix="pred_")
    assert paired.names == ["img_1", "img_2", "img_10"]
    assert [p.name for p in paired.labels.files] == ["pred_img_1.png", "pred_img_2.png", "pred_img_10.png"]


def test_pairs_follow_the_truth_order_and_plain_names_pair_too(folders):
    (folders / "pred" / "pred_img_2.png").rename(folders / "pred" / "img_2.png")
    preds, truth = paired_label_folders(folders / "pred", folders / "truth", CLASSES)
    assert [p.name for p in truth.files] == ["img_1.png", "img_2.png", "img_10.png"]
    assert [p.name for p in preds.files] == ["pred_img_1.png", "img_2.png", "pred_img_10.png"]
    assert [int(preds.read(i)[0, 0]) for i in range(3)] == [1, 2, 1]  # class indices as written


def test_unpaired_files_are_named_in_evaluate_terms(folders):
    (folders / "pred" / "pred_img_2.png").rename(folders / "pred" / "pred_other.png")
    with pytest.raises(DataError, match=r"1 ground-truth file\(s\) without a prediction in .*pred \(expected "
                       r"pred_<name>\): img_2; 1 prediction\(s\) without a ground-truth file in .*truth: other"):
        paired_label_folders(folders / "pred", folders / "truth", CLASSES)


def test_bad_folders_duplicates_and_encoding(folders):
    save_png(np.zeros((6, 8), np.uint8), folders / "pred" / "img_1.png")  # pairs with img_1 as pred_img_1 does
    with pytest.raises(DataError, match="both have the name 'img_1'"):
        paired_label_folders(folders / "pred", folders / "truth", CLASSES)
    with pytest.raises(DataError, match="the prediction folder .*nowhere does not exist"):
        paired_label_folders(folders / "nowhere", folders / "truth", CLASSES)
    with pytest.raises(ConfigurationError, match="pred_encoding.*'colours'"):
        paired_label_folders(folders / "pred", folders / "truth", CLASSES, pred_encoding="colours")


def test_run_evaluate_from_python(folders):
    CLASSES.save(folders / "classes.json")
    lines: list[str] = []
    result = run_evaluate(folders / "pred", folders / "truth", folders / "classes.json", folders / "out",
                          metrics=["iou"], quiet=True, echo=lines.append)
    assert set(result.dataset_metrics.columns) == {"mean_iou"}
    assert "Data set metrics" in lines[0] and lines[-1] == f"wrote 8 files to {folders / 'out'}"
    with pytest.raises(FileExistsError, match="--overwrite"):
        run_evaluate(folders / "pred", folders / "truth", CLASSES, folders / "out", quiet=True, echo=lines.append)
