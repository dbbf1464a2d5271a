"""The command line is argument parsing only: each command module reaches the stages
through one workflow job (``label`` and ``info`` call their stage's entry point)."""

from __future__ import annotations

import ast
from pathlib import Path

import pixelseg.cli
from pixelseg.cli import app

CLI = Path(pixelseg.cli.__file__).parent
# What a command module may import from pixelseg besides pixelseg.workflow.*.
ALLOWED = {
    "__init__.py": {"pixelseg.errors", "pixelseg.cli._support", "pixelseg.utils.log"},
    "_support.py": {"pixelseg"},  # pixelseg.__version__ for --version
    "predict.py": {"pixelseg.errors", "pixelseg.inference.predictor"},  # MAX_TTA_SCALE for --tta-scales
    "label.py": {"pixelseg.labeling.server"},
    "info.py": {"pixelseg.data.report"},
    "train.py": {"pixelseg.cli._support"},  # usage_error: --config or --data
}


def _pixelseg_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pixelseg"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pixelseg"))
    return found


def test_cli_modules_import_only_workflow_jobs():
    for path in sorted(CLI.glob("*.py")):
        stray = {m for m in _pixelseg_imports(path) if not m.startswith("pixelseg.workflow.")}
        assert stray <= ALLOWED.get(path.name, set()), (path.name, stray)
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 80, path.name


def test_every_command_is_registered():
    names = [command.name for command in app.registered_commands]
    assert names == ["demo", "info", "train", "evaluate", "predict", "export", "label", "models"]
