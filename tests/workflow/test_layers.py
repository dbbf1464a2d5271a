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
        elif part not in ("cli", "__init__.py"):
            assert not {m for m in imported if m.startswith(("pixelseg.workflow", "pixelseg.cli"))}, path
