"""Your own data from the command line (issue 15): for each layout and label encoding, a tiny
synthetic dataset goes through ``pixelseg info`` (its printed ``data:`` block pasted into a
YAML file), ``train --config``, ``predict --data`` and ``evaluate --data``, with at most a
classes file and the reading options the user adds.

The pixel counts that ``info`` prints and the row sums of the confusion matrix that
``evaluate`` writes are checked against the counts the builder painted, so a label read
wrongly (palette indices for colours, void for an object, transparent pixels as a class)
fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.workflow import own_data

EXE = Path(sys.executable).with_name("pixelseg")
NETWORK = {"name": "unet", "encoder_depth": 2, "num_first_encoder_filters": 4}
OPTIONS = {"max_epochs": 1, "mini_batch_size": 2, "verbose": False, "plots": "none"}


def cli(args: list[str], capsys) -> tuple[int, str]:
    """Run ``pixelseg ARGS`` in this process: (exit code, stdout + stderr)."""
    from pixelseg.cli import main

    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def data_block(report: str) -> dict:
    """The ``data:`` block ``pixelseg info`` prints at the end of its report."""
    text = report[report.index("\ndata:") + 1:]
    return yaml.safe_load(text)["data"]


def pixel_counts(report: str, names) -> dict[str, int]:
    """``name pixel_count image_count`` rows of the report's class table."""
    counts = {}
    for line in report.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in names and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def write_config(folder: Path, block: dict, classes: Path | None, extra: dict) -> Path:
    config = {"data": {**block, **extra, "augment": "none"}, "network": NETWORK, "options": OPTIONS}
    if classes is not None:
        config["classes"] = str(classes)
    path = folder / "train.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.filterwarnings("ignore:class_weights")
@pytest.mark.parametrize("name", sorted(own_data.BUILDERS))
def test_info_train_predict_evaluate(name, tmp_path, capsys):
    root, classes, extra, counts = own_data.BUILDERS[name](tmp_path / name)
    info = ["info", root] + (["--classes", classes] if classes else [])
    if extra:  # the reading options go into the YAML; info reads them from there
        code, report = cli(info, capsys)
        config = write_config(tmp_path, data_block(report), classes, extra)
        info = ["info", config]
    code, report = cli(info, capsys)
    assert code == 0, report
    assert pixel_counts(report, counts) == counts
    config = write_config(tmp_path, data_block(report), classes, extra)

    code, output = cli(["train", "--config", config, "--output", tmp_path / "run"], capsys)
    assert code == 0, output
    assert len(pd.read_csv(tmp_path / "run" / "train_files.csv")) + len(
        pd.read_csv(tmp_path / "run" / "validation_files.csv")) == own_data.N
    code, output = cli(["predict", tmp_path / "run" / "network.ckpt", "--data", config, "--out", tmp_path / "pred"],
                       capsys)
    assert code == 0, output
    code, output = cli(["evaluate", "--pred", tmp_path / "pred", "--data", config, "--out", tmp_path / "eval",
                        "--quiet"], capsys)
    assert code == 0, output
    confusion = pd.read_csv(tmp_path / "eval" / "confusion_matrix.csv", index_col=0)
    assert confusion.sum(axis=1).to_dict() == counts


def test_the_installed_executable_reads_a_drive_like_folder(tmp_path):
    """DRIVE through the installed ``pixelseg``: LZW TIFF images (no imagecodecs needed),
    0/255 GIF masks whose grey palette is read as grey values, suffixes, region masks."""
    root, classes, _, counts = own_data.drive(tmp_path / "drive")
    result = subprocess.run([str(EXE), "info", str(root)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pixel_counts(result.stdout, counts) == counts
    assert data_block(result.stdout)["layout"] == "suffix"


def test_info_exits_non_zero_for_binary_masks_read_with_255_as_void(tmp_path, capsys):
    """F11: 0/255 masks in a VOC layout: 255 is VOC's void, so the object has no pixel."""
    import numpy as np
    from PIL import Image

    for folder in ("JPEGImages", "SegmentationClass"):
        (tmp_path / folder).mkdir()
    for i in range(2):
        Image.fromarray(np.full((16, 16), 128, np.uint8)).save(tmp_path / "JPEGImages" / f"{i}.jpg")
        mask = np.zeros((16, 16), np.uint8)
        mask[4:12, 4:12] = 255
        Image.fromarray(mask).save(tmp_path / "SegmentationClass" / f"{i}.png")
    (tmp_path / "class_names.txt").write_text("background\nobject\n")
    code, report = cli(["info", tmp_path], capsys)
    assert code == 1
    assert "'object' has no pixel" in report and "declare label_ids [0, 255]" in report


def test_evaluate_from_the_cli_with_suffixes_uses_only_the_label_id_files(tmp_path, capsys):
    """F15: Cityscapes truth (labelIds next to color and instanceIds files and polygons)
    against ``pred_<stem>_leftImg8bit.png`` predictions, from the CLI.

    Truth: frame 1 all road (8 px), frame 2 all car (8 px). Predictions: frame 1 half road,
    half car; frame 2 all road. Road: TP 4, FN 4, FP 8 -> IoU 4/16 = 0.25; car: TP 0 -> 0.
    Mean IoU 0.125."""
    import json

    import numpy as np

    from pixelseg.utils.atomic import save_png

    truth = tmp_path / "gtFine" / "val" / "aachen"
    truth.mkdir(parents=True)
    (tmp_path / "pred").mkdir()
    frames = {"aachen_000000_000019": (7, [0, 0, 1, 1]), "aachen_000001_000019": (26, [0, 0, 0, 0])}
    for stem, (label_id, pred_row) in frames.items():
        save_png(np.full((2, 4), label_id, np.uint8), truth / f"{stem}_gtFine_labelIds.png")
        save_png(np.full((2, 4, 3), 200, np.uint8), truth / f"{stem}_gtFine_color.png")
        save_png(np.full((2, 4), 26000, np.uint16), truth / f"{stem}_gtFine_instanceIds.png")
        (truth / f"{stem}_gtFine_polygons.json").write_text("{}")
        save_png(np.array([pred_row, pred_row], np.uint8), tmp_path / "pred" / f"pred_{stem}_leftImg8bit.png")
    classes = tmp_path / "classes.json"
    classes.write_text(json.dumps({"names": ["road", "car"], "label_ids": [7, 26]}))
    code, output = cli(["evaluate", "--pred", tmp_path / "pred", "--truth", tmp_path / "gtFine" / "val",
                        "--classes", classes, "--label-suffix", "_gtFine_labelIds", "--pred-suffix", "_leftImg8bit",
                        "--out", tmp_path / "eval", "--quiet"], capsys)
    assert code == 0, output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["dataset_metrics"]["mean_iou"] == pytest.approx(0.125)


def test_evaluate_unpaired_error_names_the_suffix_options_that_would_pair(tmp_path, capsys):
    """F15: without the suffix options the error says which ones would pair the files."""
    import json

    import numpy as np

    from pixelseg.utils.atomic import save_png

    truth, pred = tmp_path / "gtFine", tmp_path / "pred"
    truth.mkdir()
    pred.mkdir()
    for stem in ("aachen_000000_000019", "aachen_000001_000019"):
        save_png(np.full((2, 4), 7, np.uint8), truth / f"{stem}_gtFine_labelIds.png")
        save_png(np.full((2, 4), 26, np.uint8), truth / f"{stem}_gtFine_instanceIds.png")
        save_png(np.zeros((2, 4), np.uint8), pred / f"pred_{stem}_leftImg8bit.png")
    classes = tmp_path / "classes.json"
    classes.write_text(json.dumps({"names": ["road", "car"], "label_ids": [7, 26]}))
    code, output = cli(["evaluate", "--pred", pred, "--truth", truth, "--classes", classes,
                        "--out", tmp_path / "eval", "--quiet"], capsys)
    assert code == 2
    assert ("hint: label_suffix (--label-suffix) one of '_gtFine_instanceIds', '_gtFine_labelIds' with "
            "pred_suffix (--pred-suffix) '_leftImg8bit' would pair them") in " ".join(output.split())
