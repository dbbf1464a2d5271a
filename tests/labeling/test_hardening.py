"""Faults found by an attack on the labeler: empty tokens, two servers on one folder,
stale temp files, and errors that were plain-text 500s."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pixelseg.errors import ConfigurationError

from .conftest import HEIGHT, WIDTH, put_label, sample_label, write_image


@pytest.mark.parametrize("token", ["", "   ", "short", "x" * 15])
def test_empty_or_short_token_is_refused_at_start(project, token):
    from pixelseg.labeling.server import create_app, resolve_token

    with pytest.raises(ConfigurationError, match="--token must be at least 16 characters"):
        create_app(project["images"], project["labels"], project["classes"], token=token)
    with pytest.raises(ConfigurationError, match="--token"):
        resolve_token("0.0.0.0", token)


def test_empty_token_on_the_command_line_is_one_sentence_and_exit_2(project):
    exe = Path(sys.executable).with_name("pixelseg")
    command = [str(exe)] if exe.exists() else [sys.executable, "-c", "from pixelseg.cli import main; main()"]
    result = subprocess.run(
        [*command, "label", str(project["images"]), "--labels", str(project["labels"]), "--classes",
         str(project["classes"]), "--host", "0.0.0.0", "--token", ""],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "--token must be at least 16 characters, got an empty token" in result.stderr
    assert "Traceback" not in result.stderr


def _save_at_barrier(labels_dir, classes_path, barrier, results, trial):
    from pixelseg.data import ClassSet
    from pixelseg.labeling.labels import Conflict, LabelCodec, LabelWriter

    codec = LabelCodec(ClassSet.load(classes_path))
    label = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    label[:, : os.getpid() % WIDTH] = 1  # each process writes different content
    barrier.wait()
    try:
        LabelWriter().save(label, Path(labels_dir) / f"trial_{trial}.png", codec, base_version="")
        results.put("saved")
    except Conflict:
        results.put("conflict")


def test_two_servers_saving_over_the_same_version_give_one_success_and_one_conflict(project):
    """Two processes (as two ``pixelseg label`` servers on one folder) save at the same instant."""
    context = multiprocessing.get_context("fork")
    project["labels"].mkdir()
    for trial in range(12):
        barrier, results = context.Barrier(2), context.Queue()
        workers = [context.Process(target=_save_at_barrier,
                                   args=(project["labels"], project["classes"], barrier, results, trial))
                   for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        outcomes = sorted(results.get(timeout=5) for _ in workers)
        assert outcomes == ["conflict", "saved"], f"trial {trial}: {outcomes}"


def _save_when_started(labels_dir, classes_path, done):
    from pixelseg.data import ClassSet
    from pixelseg.labeling.labels import LabelCodec, LabelWriter

    codec = LabelCodec(ClassSet.load(classes_path))
    LabelWriter().save(np.zeros((HEIGHT, WIDTH), np.uint8), Path(labels_dir) / "x.png", codec, None)
    done.set()


def test_folder_lock_holds_across_processes(project):
    from pixelseg.labeling.locking import FolderLock

    context = multiprocessing.get_context("fork")
    project["labels"].mkdir()
    done = context.Event()
    with FolderLock(project["labels"]):
        worker = context.Process(target=_save_when_started, args=(project["labels"], project["classes"], done))
        worker.start()
        assert not done.wait(1.0), "another process wrote while the folder was locked"
    assert done.wait(30)
    worker.join(timeout=30)
    assert (project["labels"] / "x.png").is_file()


def test_stale_temp_files_are_removed_at_start_and_nothing_else(make_client, project):
    labels = project["labels"]
    labels.mkdir()
    stale = labels / ".img_1.png.k2j4h_8a.tmp.png"
    fresh = labels / ".img_2.png.a8s7d6f5.tmp.png"
    kept = [labels / ".notes.txt", labels / "img_1.png", labels / "tmp.png"]
    for path in [stale, fresh, *kept]:
        path.write_bytes(b"x")
    old = time.time() - 3600
    for path in [stale, *kept]:
        os.utime(path, (old, old))
    classes_stale = project["classes"].with_name(".classes.json.q1w2e3r4.tmp.json")
    classes_stale.write_text("{")
    os.utime(classes_stale, (old, old))
    make_client()
    assert not stale.exists() and not classes_stale.exists()
    assert fresh.exists() and all(path.exists() for path in kept)


def test_label_path_that_is_a_folder_is_a_json_error(client, project):
    project["labels"].mkdir(exist_ok=True)
    (project["labels"] / "img_1.png").mkdir()
    for response in (client.get("/api/images/img_1.png"), client.get("/api/images/img_1.png/label"),
                     put_label(client, "img_1.png", sample_label())):
        assert response.status_code == 422
        assert "not a file" in response.json()["detail"]


def test_very_long_image_name_is_a_json_400(client, project):
    name = "a" * 246 + ".png"
    write_image(project["images"] / name)
    for response in (client.get(f"/api/images/{name}"), put_label(client, name, sample_label())):
        assert response.status_code == 400
        assert "rename the image" in response.json()["detail"]
    assert not project["labels"].exists() or not any(project["labels"].iterdir())


def test_unexpected_failure_is_a_json_500(make_client, monkeypatch):
    from fastapi.testclient import TestClient

    from pixelseg.labeling import server

    def broken(path):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(server, "image_size", broken)
    client = TestClient(make_client().app, raise_server_exceptions=False)
    response = client.get("/api/images/img_1.png")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error (RuntimeError): disk on fire"}


def test_saving_adds_no_lock_file_to_the_labels_folder(project):
    from pixelseg.data import ClassSet
    from pixelseg.labeling.labels import LabelCodec, LabelWriter

    project["labels"].mkdir()
    LabelWriter().save(sample_label(), project["labels"] / "img_1.png", LabelCodec(ClassSet.load(project["classes"])),
                       None)
    assert [p.name for p in project["labels"].iterdir()] == ["img_1.png"]
