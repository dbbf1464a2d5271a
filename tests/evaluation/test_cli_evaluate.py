"""``pixelseg evaluate --pred DIR --truth DIR --classes classes.json --out DIR``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pixelseg.cli import main


@pytest.fixture()
def folders(tmp_path):
    from pixelseg.data import ClassSet
    from pixelseg.utils.atomic import save_png

    classes = ClassSet(["road", "sky", "car"])
    classes.save(tmp_path / "classes.json")
    (tmp_path / "truth").mkdir()
    (tmp_path / "pred").mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        truth = rng.integers(0, 3, (12, 16)).astype(np.uint8)
        pred = truth.copy()
        pred[:2] = 0
        save_png(truth, tmp_path / "truth" / f"img_{i}.png")
        save_png(pred, tmp_path / "pred" / f"pred_img_{i}.png", palette=classes.palette())
    return tmp_path


def args(root, *extra):
    return ["evaluate", "--pred", str(root / "pred"), "--truth", str(root / "truth"),
            "--classes", str(root / "classes.json"), "--out", str(root / "out"), "--quiet", *extra]


def test_cli_writes_metrics_and_refuses_to_overwrite(folders, capsys):
    main(args(folders))
    out = capsys.readouterr().out
    assert "Data set metrics" in out and "wrote 8 files" in out
    data = json.loads((folders / "out" / "metrics.json").read_text())
    assert data["num_images"] == 3 and 0 < data["dataset_metrics"]["mean_iou"] < 1
    with pytest.raises(SystemExit) as exc:
        main(args(folders))
    assert exc.value.code == 2
    assert "--overwrite" in capsys.readouterr().err
    main(args(folders, "--overwrite", "--nan-policy", "propagate", "--metrics", "iou,global_accuracy"))
    data = json.loads((folders / "out" / "metrics.json").read_text())
    assert data["nan_policy"] == "propagate" and set(data["dataset_metrics"]) == {"global_accuracy", "mean_iou"}


def test_cli_names_unpaired_files(folders, capsys):
    (folders / "pred" / "pred_img_2.png").unlink()
    with pytest.raises(SystemExit):
        main(args(folders))
    assert "img_2" in capsys.readouterr().err
