"""The documentation site builds in strict mode, and its snippets name the real API.

The build runs ``mkdocs build --strict`` in a subprocess into a temporary folder: a broken
link or anchor, an API page naming an object that no longer exists, or any other MkDocs
warning fails it. Skipped, with the reason, when the ``docs`` extra is not installed.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
COMMANDS = ("demo", "info", "train", "evaluate", "predict", "export", "label", "models")
WORKFLOW_PAGES = ("label", "datastores", "partition", "networks", "train", "evaluate", "infer", "export")


def python_blocks(page: Path) -> list[str]:
    """The fenced ```python blocks of a Markdown page."""
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)


def all_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    missing = [m for m in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
               if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        pytest.skip(f"the docs extra is not installed (missing {', '.join(missing)}): "
                    "pip install -e '.[docs]' to build the documentation")
    out = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "WARNING" not in log, log
    return out


def test_site_builds_strict_with_every_page(site):
    for page in ["index", "getting-started", "matlab", "cli", "api/index",
                 *(f"workflow/{p}" for p in WORKFLOW_PAGES)]:
        html = site / (f"{page}.html" if page.endswith("index") else f"{page}/index.html")
        assert html.is_file(), page


def test_cli_reference_holds_every_command_help(site):
    html = (site / "cli" / "index.html").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"Usage: pixelseg {command} [OPTIONS]" in html, command
    assert "--tile-size" in html and "--resume" in html   # option tables, not just names


def test_api_reference_documents_every_public_name(site):
    """Every class and function of ``pixelseg.__all__`` has its section (anchor) in the API pages."""
    import pixelseg

    html = "".join(p.read_text(encoding="utf-8") for p in (site / "api").rglob("index.html"))
    missing = []
    for name in pixelseg.__all__:
        obj = getattr(pixelseg, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            anchor = f'id="{obj.__module__}.{name}"'
            if anchor not in html:
                missing.append(f"{obj.__module__}.{name}")
    assert not missing, f"not in docs/api/*.md (add '::: name' lines): {missing}"


def test_workflow_pages_and_matlab_page_cover_the_workflow():
    for step in WORKFLOW_PAGES:
        assert python_blocks(DOCS / "workflow" / f"{step}.md") or step == "label", step
    matlab = (DOCS / "matlab.md").read_text(encoding="utf-8")
    for function in ("imageDatastore", "pixelLabelDatastore", "combine", "countEachLabel", "splitEachLabel",
                     "segnetLayers", "unet", "deeplabv3plus", "fcnLayers", "trainingOptions", "trainnet",
                     "trainNetwork", "semanticseg", "evaluateSemanticSegmentation", "labeloverlay",
                     "blockedImage", "exportONNXNetwork", "Image Labeler"):
        assert f"`{function}" in matlab or function in matlab, function


@pytest.mark.parametrize("page", all_pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_snippets_parse_and_import_real_names(page):
    """Every Python snippet is valid Python, and every name it imports from pixelseg exists."""
    for block in python_blocks(page):
        tree = ast.parse(block, filename=str(page))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pixelseg":
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{page.name}: {node.module} has no {alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "pixelseg":
                        importlib.import_module(alias.name)


def test_getting_started_snippet_runs(capsys):
    """The first Python snippet runs as printed, on the sample bundled with the package."""
    (block,) = python_blocks(DOCS / "getting-started.md")
    exec(compile(block, "getting-started.md", "exec"), {})
    out = capsys.readouterr().out
    assert "pixel_count" in out and "Sky" in out
