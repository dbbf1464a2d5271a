"""The demo job end to end on a few bundled pairs, and its one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pixelseg.cli import main
from pixelseg.utils.sizes import parse_size
from pixelseg.workflow.demo import DemoConfig, run_demo


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from pixelseg.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_demo_job_writes_metrics_plots_and_overlays(tiny_camvid, tmp_path):
    data = tiny_camvid("data")
    out = tmp_path / "out"
    config = DemoConfig(data=data, output=out, epochs=1, network="deeplabv3plus", image_size=(64, 96),
                        mini_batch_size=2, num_overlays=2)
    metrics = run_demo(config, echo=lambda _: None)

    assert set(metrics) >= {"global_accuracy", "mean_accuracy", "mean_iou", "weighted_iou", "mean_bf_score"}
    assert 0.0 <= metrics["global_accuracy"] <= 1.0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["dataset_metrics"]["global_accuracy"] == pytest.approx(metrics["global_accuracy"])
    for name in ("confusion_matrix.png", "training_progress.png", "class_metrics.csv", "network.ckpt"):
        assert (out / name).is_file(), name
    overlays = sorted((out / "overlays").glob("*.png"))
    assert len(overlays) == 2
    # keep_checkpoints=1: one periodic checkpoint and last.ckpt; the whole folder under 100 MB
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert len(names) == 2 and names[0].startswith("epoch000-") and names[1] == "last.ckpt", names
    assert sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and not p.is_symlink()) < 100e6
    # the shipped camvid network ran beside it on the same images: its metrics and a fourth panel
    shipped = json.loads((out / "camvid" / "metrics.json").read_text())
    assert shipped["num_images"] == saved["num_images"] == 2
    assert Image.open(overlays[0]).size[0] > 4 * 5.5 * 80  # image | truth | this run | shipped camvid


def test_the_shipped_network_is_left_out_when_asked_or_when_its_classes_differ(tmp_path):
    from pixelseg.data import ClassSet
    from pixelseg.data.formats.camvid import camvid_class_set
    from pixelseg.pretrained import model_card
    from pixelseg.workflow.demo import shipped_reference

    held_out_note = model_card("camvid").held_out_note()  # said when camvid was trained on val too
    said: list[str] = []
    assert shipped_reference(None, camvid_class_set(), said.append) is None and said == []
    name, network = shipped_reference("camvid", camvid_class_set(), said.append)
    assert name == "camvid" and network.num_classes == 11
    assert shipped_reference("camvid", ClassSet(["crack", "background"]), said.append) is None
    assert shipped_reference("nope", camvid_class_set(), said.append) is None
    assert said == [held_out_note] * bool(held_out_note) + [
                    "the shipped network 'camvid' predicts other classes than this data's; it is not run beside",
                    "no shipped network 'nope' in this installation; `pixelseg models` lists those there are"]


def test_parse_image_size():
    assert parse_size("360x480", "--image-size") == (360, 480)
    assert parse_size(None, "--image-size") is None
    with pytest.raises(ValueError, match="--image-size.*360x480"):
        parse_size("big", "--image-size")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "not in CamVid layout"),
        (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "is not a folder"),
    ],
)
def test_bad_data_folder_is_one_sentence_and_nonzero_exit(tmp_path, make, message):
    result = _run_cli("demo", "--data", str(make(tmp_path)), "--output", str(tmp_path / "out"))
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_label_value_without_class_names_file_and_value(tiny_camvid, tmp_path):
    data = tiny_camvid("data", n_train=2, n_val=1)
    bad = sorted((data / "trainannot").iterdir())[0]
    label = np.array(Image.open(bad))
    label[:2, :3] = 42
    Image.fromarray(label).save(bad)
    result = _run_cli("demo", "--data", str(data), "--output", str(tmp_path / "out"), "--epochs", "1",
                      "--image-size", "32x48")
    assert result.returncode != 0
    assert bad.name in result.stderr and "42" in result.stderr
    assert "Traceback" not in result.stderr


def test_non_empty_output_folder_is_refused(demo_data, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("user file")
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--output", str(out)])
    assert exc.value.code == 2
    assert (out / "mine.txt").read_text() == "user file"
