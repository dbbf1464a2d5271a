"""``semanticseg(engine="ray")`` and ``pixelseg predict --ray``: the single-process files, resuming,
errors, and the missing extra.

The tests that run Ray share one local Ray instance of 2 CPUs (the module fixture ``cluster``
of conftest.py; starting Ray takes about 10 s) and are skipped when ray is not installed:
``make setup`` installs ``.[all,test]``, which leaves the ``ray`` extra out, so CI skips them.
"""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
from PIL import Image

from pixelseg.cli import main
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import semanticseg
from pixelseg.utils.extras import MissingExtraError
from pixelseg.workflow.predict import run_predict

from .conftest import CLASSES, RAY_HINT


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Six small RGB PNGs of two sizes."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(6):
        shape = (20, 28, 3) if i % 2 else (16, 24, 3)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(folder / f"im{i}.png")
    return folder


@pytest.fixture(scope="module")
def single(network, images, tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    return semanticseg(images, network, write_location=out, device="cpu", progress=False)


@pytest.fixture(scope="module")
def on_ray(cluster, network, images, tmp_path_factory):
    out = tmp_path_factory.mktemp("ray")
    return semanticseg(images, network, write_location=out, device="cpu", engine="ray", num_workers=2,
                       mini_batch_size=2, progress=False)


def test_ray_writes_the_files_of_the_single_process_path(single, on_ray):
    assert [p.name for p in on_ray.files] == [p.name for p in single.files] == [f"pred_im{i}.png" for i in range(6)]
    for a, b in zip(single.files, on_ray.files):
        assert a.read_bytes() == b.read_bytes(), b.name
    assert on_ray.class_set.names == single.class_set.names == CLASSES.names
    assert np.array_equal(on_ray.read(3), single.read(3))
    assert not [p for p in on_ray.files[0].parent.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_cli_ray_resumes_recomputing_only_the_missing_outputs(on_ray, single, network, images, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(on_ray.files[0].parent, out)
    (out / "pred_im1.png").unlink()
    (out / "pred_im4.png").unlink()
    kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    try:
        main(["predict", str(network.checkpoint), str(images), "--out", str(out),
              "--device", "cpu", "--ray", "local", "--workers", "2", "--mini-batch-size", "1"])
    except SystemExit as exc:
        assert exc.code == 0, capsys.readouterr().err
    assert "labelled 6 image(s)" in capsys.readouterr().err
    for name, stamp in kept.items():  # untouched
        assert ((out / name).stat().st_ino, (out / name).stat().st_mtime_ns) == stamp
    for name in ("pred_im1.png", "pred_im4.png"):  # recomputed, the same bytes
        assert (out / name).read_bytes() == (single.files[0].parent / name).read_bytes()


def test_an_unreadable_file_is_a_data_error_naming_it_or_skipped(cluster, network, images, tmp_path):
    folder = tmp_path / "images"
    shutil.copytree(images, folder)
    (folder / "im2.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="im2.png"):
        semanticseg(folder, network, write_location=tmp_path / "raise", engine="ray", num_workers=2,
                    mini_batch_size=3, device="cpu", progress=False)
    with pytest.warns(UserWarning, match=r"skipped 1 of 6 image\(s\).*im2\.png"):
        pxds = semanticseg(folder, network, write_location=tmp_path / "skip", engine="ray", num_workers=2,
                           mini_batch_size=3, device="cpu", progress=False, on_error="skip")
    assert [p.name for p in pxds.files] == [f"pred_im{i}.png" for i in (0, 1, 3, 4, 5)]


# ---------------------------------------------------------------------------- without a cluster
def test_without_ray_the_error_is_one_sentence_with_the_command(monkeypatch, network, images, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError) as info:
        semanticseg(images, network, write_location=tmp_path / "out", engine="ray")
    assert str(info.value) == RAY_HINT
    with pytest.raises(SystemExit) as code:
        main(["predict", str(network.checkpoint), str(images), "--out", str(tmp_path / "cli"), "--ray", "local"])
    assert code.value.code == 2 and RAY_HINT in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*.png"))


def test_bad_engine_options_are_configuration_errors(network, images, tmp_path):
    with pytest.raises(ConfigurationError, match="engine must be 'local' or 'ray'"):
        semanticseg(images, network, write_location=tmp_path, engine="spark")
    with pytest.raises(ConfigurationError, match="give write_location"):
        semanticseg(images, network, engine="ray")
    with pytest.raises(ConfigurationError, match="--workers .* give --ray"):
        run_predict(network.checkpoint, [images], tmp_path / "out", workers=2)
    with pytest.raises(ConfigurationError, match="--ray cannot be combined with --overlay"):
        run_predict(network.checkpoint, [images], tmp_path / "out", ray="local", overlay=True)
