"""Imports flow one way: the stages never import the jobs; the jobs never import the command line."""

from __future__ import annotations

import ast
from pathlib import Path

import pixelseg

PACKAGE = Path(pixelseg.__file__).parent


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_workflow_sits_between_the_stages_and_the_cli():
    for path in PACKAGE.rglob("*.py"):
        part = path.relative_to(PACKAGE).parts[0]
        imported = _imports(path)
        if part == "workflow":
            assert not {m for m in imported if m.startswith(("pixelseg.cli", "pixelseg.labeling"))}, path
        elif part not in ("cli", "__init__.py", "__main__.py"):
            assert not {m for m in imported if m.startswith(("pixelseg.workflow", "pixelseg.cli"))}, path


# The stages from the bottom up; a package may import its own modules and those of lower layers.
LAYERS = [
    {"conventions", "errors"},
    {"utils"},
    {"data"},
    {"models", "pretrained"},
    {"checkpoint"},
    {"evaluation", "inference"},
    {"export", "training"},
    {"labeling", "workflow"},
    {"cli"},
    {"__main__"},
]
# The one edge upwards: the checkpoint rebuilds TrainingOptions from pixelseg.training.options,
# a pydantic-only module (reading a checkpoint imports no Lightning: tests/test_checkpoint.py).
# semanticseg checks pixels with the function of the torch-free ONNX runtime, a standalone
# module that imports nothing of pixelseg (tests/test_packaging.py loads it alone).
ALLOWED = {("checkpoint", "pixelseg.training.options"), ("inference", "pixelseg.export.runtime")}


def _layer(part: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if part in names)


def test_every_stage_imports_only_from_the_stages_below_it():
    problems = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts == ("__init__.py",):
            continue  # the top-level lazy re-exports
        part = relative.parts[0].removesuffix(".py")
        for module in _imports(path):
            if not module.startswith("pixelseg.") or module == "pixelseg":
                continue
            target = module.split(".")[1]
            if target == part or (part, module) in ALLOWED:
                continue
            if _layer(target) >= _layer(part):
                problems.append(f"{relative} imports {module}")
    assert not problems, "\n".join(problems)
