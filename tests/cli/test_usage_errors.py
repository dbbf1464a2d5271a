"""Usage errors of the installed ``pixelseg`` executable: a clear message, exit code 2, no traceback.

Run through the real entry point in a subprocess, so that a typer or click release that
changes its exception classes (typer 0.29 ships its own copy of click) fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pixelseg

EXE = Path(sys.executable).with_name("pixelseg")


def _run(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pixelseg"] if module or not EXE.exists() else [str(EXE)]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["infoo"], "No such command 'infoo'. Did you mean 'info'?"),
    (["info"], "Missing argument 'data'"),
    (["train"], "Invalid value for '--config': give the YAML with --config train.yaml"),
    (["train", "--config"], "Option '--config' requires an argument"),
    (["predict", "--bogus"], "No such option: --bogus"),
    (["label", "imgs", "--labels", "l", "--classes", "c.json", "--port", "0"], "Invalid value for '--port'"),
])
def test_usage_error_is_one_clear_line_and_exit_2(args, message):
    result = _run(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert sum(line.startswith("Error") for line in result.stderr.splitlines()) == 1


def test_debug_does_not_turn_usage_errors_into_tracebacks():
    result = _run("--debug", "infoo")
    assert result.returncode == 2 and "No such command" in result.stderr


def test_version():
    result = _run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"pixelseg {pixelseg.__version__}"


def test_python_dash_m_pixelseg():
    result = _run("--help", module=True)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "train" in result.stdout


def test_no_arguments_prints_the_help():
    result = _run()
    assert "Usage:" in result.stdout + result.stderr and "Traceback" not in result.stderr
