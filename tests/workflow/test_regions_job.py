"""Regions of interest end to end (issue 15): a DRIVE-like folder whose field-of-view masks
the layout finds goes through ``info -> train -> predict --data -> evaluate --data``; the
predictions are void outside the field of view and the evaluation counts only the pixels
inside it, compared with the same data read with ``regions: false``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.workflow import own_data
from tests.workflow.test_own_data import cli, data_block, pixel_counts, write_config

INSIDE = np.zeros((own_data.H, own_data.W), bool)
INSIDE[own_data.FOV] = True
FULL_COUNTS = own_data.binary_counts()  # every pixel: background 1280, object 256


def _confusion(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "confusion_matrix.csv", index_col=0)


@pytest.mark.filterwarnings("ignore:class_weights")
def test_info_train_predict_evaluate_inside_the_field_of_view(tmp_path, capsys):
    root, classes, _, counts = own_data.drive(tmp_path / "drive")
    assert counts == {"background": 4 * (308 - 64), "object": 4 * 64}

    code, report = cli(["info", root], capsys)
    assert code == 0, report
    assert "region masks: 4 file(s); 304 pixels outside them are void" in report
    assert pixel_counts(report, counts) == counts
    block = data_block(report)
    assert block["region_dir"] == "mask" and block["region_suffix"] == "_training_mask"
    config = write_config(tmp_path, block, classes, {})
    code, again = cli(["info", config], capsys)  # the printed block reads the same, regions included
    assert code == 0, again
    assert data_block(again) == {**block, "augment": "none"}
    assert pixel_counts(again, counts) == counts

    off_folder = tmp_path / "off"
    off_folder.mkdir()
    config_off = write_config(off_folder, {**block, "regions": False}, classes, {})
    code, report_off = cli(["info", config_off], capsys)
    assert pixel_counts(report_off, FULL_COUNTS) == FULL_COUNTS
    assert data_block(report_off)["regions"] is False

    run = tmp_path / "run"
    code, output = cli(["train", "--config", config, "--output", run], capsys)
    assert code == 0, output
    files = pd.concat([pd.read_csv(run / "train_files.csv"), pd.read_csv(run / "validation_files.csv")])
    assert sorted(files["region"].map(lambda p: p.rsplit("/", 1)[-1])) == [f"{i}_training_mask.gif" for i in range(21, 25)]

    # predict --data: each image's region mask is its roi
    code, output = cli(["predict", run / "network.ckpt", "--data", config, "--out", tmp_path / "pred"], capsys)
    assert code == 0, output
    predicted = sorted((tmp_path / "pred").glob("pred_*.png"))
    assert len(predicted) == 4
    for path in predicted:
        labels = np.asarray(Image.open(path))
        assert (labels[~INSIDE] == 255).all() and (labels[INSIDE] < 2).all(), path

    code, output = cli(["evaluate", "--pred", tmp_path / "pred", "--data", config, "--out", tmp_path / "eval",
                        "--quiet"], capsys)
    assert code == 0, output
    inside = _confusion(tmp_path / "eval")
    assert inside.sum(axis=1).to_dict() == counts

    # the same network without regions: every pixel predicted and counted
    code, output = cli(["predict", run / "network.ckpt", "--data", config_off, "--out", tmp_path / "pred_all"], capsys)
    assert code == 0, output
    assert all((np.asarray(Image.open(p)) < 2).all() for p in (tmp_path / "pred_all").glob("*.png"))
    code, output = cli(["evaluate", "--pred", tmp_path / "pred_all", "--data", config_off, "--out",
                        tmp_path / "eval_all", "--quiet"], capsys)
    assert code == 0, output
    assert _confusion(tmp_path / "eval_all").sum(axis=1).to_dict() == FULL_COUNTS
    # ... and scored inside the regions: exactly the counts of the predictions made with them
    code, output = cli(["evaluate", "--pred", tmp_path / "pred_all", "--data", config, "--out",
                        tmp_path / "eval_all_inside", "--quiet"], capsys)
    assert code == 0, output
    assert _confusion(tmp_path / "eval_all_inside").equals(inside)

    # evaluate --truth with a folder of region masks, paired like the labels
    code, output = cli(["evaluate", "--pred", tmp_path / "pred", "--truth", root / "1st_manual", "--classes", classes,
                        "--label-suffix", "_manual1", "--pred-suffix", "_training", "--regions", root / "mask",
                        "--region-suffix", "_training_mask", "--out", tmp_path / "eval_truth", "--quiet"], capsys)
    assert code == 0, output
    assert _confusion(tmp_path / "eval_truth").equals(inside)

    # predict plain inputs with --roi x,y,w,h: the same field of view as a rectangle
    code, output = cli(["predict", run / "network.ckpt", root / "images", "--roi", "1,1,22,14", "--out",
                        tmp_path / "pred_roi"], capsys)
    assert code == 0, output
    for path in predicted:
        assert np.array_equal(np.asarray(Image.open(tmp_path / "pred_roi" / path.name)), np.asarray(Image.open(path)))


def test_predict_and_evaluate_option_errors(tmp_path, capsys):
    root, classes, _, _ = own_data.drive(tmp_path / "drive")
    (tmp_path / "pred").mkdir()
    for i in range(21, 25):
        Image.fromarray(np.zeros((own_data.H, own_data.W), np.uint8)).save(tmp_path / "pred" / f"pred_{i}_training.png")
    truth = ["--truth", root / "1st_manual", "--classes", classes, "--label-suffix", "_manual1", "--pred-suffix",
             "_training"]
    code, output = cli(["evaluate", "--pred", tmp_path / "pred", *truth, "--regions", root / "mask", "--out",
                        tmp_path / "e"], capsys)
    assert code != 0
    assert "4 ground-truth file(s) without a region mask" in output and "--region-suffix" in output
    code, output = cli(["predict", tmp_path / "none.ckpt", root / "images", "--roi", "1,2,3", "--out", tmp_path / "p"],
                       capsys)
    assert code != 0 and "--roi 1,2,3: no such mask file (or give a rectangle x,y,width,height" in output
    code, output = cli(["predict", tmp_path / "none.ckpt", "--data", tmp_path / "x.yaml", "--roi", "1,2,3,4", "--out",
                        tmp_path / "p"], capsys)
    assert code != 0 and "--roi applies to INPUTS" in output


def test_one_mask_for_all_relative_to_the_yaml_round_trips_through_info(tmp_path, capsys):
    """``regions: fov.png`` beside train.yaml: one mask for every image (here the top 8 rows,
    which hold the object's rows 4..7: 4 x 32 object pixels, 4 x (192 - 32) background)."""
    root, classes, _, _ = own_data.drive(tmp_path / "drive")
    mask = np.zeros((own_data.H, own_data.W), np.uint8)
    mask[:8] = 1
    Image.fromarray(mask).save(tmp_path / "fov.png")
    code, report = cli(["info", root], capsys)
    config = write_config(tmp_path, {**data_block(report), "regions": "fov.png"}, classes, {})
    code, report = cli(["info", config], capsys)
    assert code == 0, report
    expected = {"background": 4 * (8 * 24 - 32), "object": 4 * 32}
    assert pixel_counts(report, expected) == expected
    block = data_block(report)
    assert block["regions"] == str(tmp_path / "fov.png")
    config = write_config(tmp_path, block, classes, {})
    code, again = cli(["info", config], capsys)
    assert data_block(again) == block and pixel_counts(again, expected) == expected
