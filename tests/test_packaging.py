"""pyproject.toml against the code: every third-party import is declared, nothing declared is
unused, ``all`` installs every extra, and ``py.typed`` ships."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

import pixelseg

ROOT = Path(pixelseg.__file__).parent.parent
PYPROJECT = ROOT / "pyproject.toml"
pytestmark = pytest.mark.skipif(not PYPROJECT.is_file(), reason="pixelseg is installed without its source tree")

#: distributions whose import name is not their name with "-" as "_"
IMPORT_NAMES = {
    "pillow": "PIL",
    "pyyaml": "yaml",
    "scikit-image": "skimage",
}
#: declared, never imported by name: what uses each one
USED_WITHOUT_IMPORT = {
    "onnxscript": "torch.onnx.export(dynamo=True) writes the graph with it",
    "imagecodecs": "tifffile decodes LZW, JPEG, Zstandard... TIFFs with it",
    "tensorboard": "Lightning's TensorBoardLogger writes the training scalars with it",
    "mkdocs": "make docs runs it (mkdocs.yml)",
    "mkdocs_material": "the theme of mkdocs.yml",
    "mkdocstrings": "the API pages of docs/ (::: blocks)",
    "httpx": "fastapi's TestClient sends the labeling tests' requests with it",
}


def _project() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()


def _import_name(requirement: str) -> str:
    name = _name(requirement)
    return IMPORT_NAMES.get(name, name.replace("-", "_"))


def _declared(*extras: str) -> set[str]:
    project = _project()
    groups = [project["dependencies"]] + [project["optional-dependencies"][e] for e in extras]
    return {_import_name(r) for group in groups for r in group if _name(r) != "pixelseg"}


def _is_require(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
        return False
    return getattr(node.func, "id", getattr(node.func, "attr", None)) == "require"


def _third_party_imports(folder: Path) -> dict[str, str]:
    """Top-level name of every absolute import (``import``, ``from``, or
    ``pixelseg.utils.extras.require("name", ...)``) of a package outside the standard library
    and outside ``folder`` -> one file that imports it."""
    local = {"pixelseg", "tests"}
    if folder.name == "tests":  # helper modules the tests import by their bare name
        local |= {p.stem for p in folder.rglob("*.py")}
    found = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif _is_require(node):
                names = [node.args[0].value]
            else:
                continue
            for top in (n.split(".")[0] for n in names):
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _package_extras() -> list[str]:
    return [e for e in _project()["optional-dependencies"] if e not in ("all", "test")]


def test_every_import_of_the_package_is_declared_in_the_core_or_an_extra():
    declared = _declared(*_package_extras())
    missing = {m: f for m, f in _third_party_imports(ROOT / "pixelseg").items() if m not in declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_nothing_declared_for_the_package_is_unused():
    imported = set(_third_party_imports(ROOT / "pixelseg"))
    unused = _declared(*_package_extras()) - imported - set(USED_WITHOUT_IMPORT)
    assert not unused, f"declared in pyproject.toml but never imported by pixelseg/: {sorted(unused)}"


def test_every_import_of_the_tests_is_declared():
    declared = _declared(*_package_extras(), "test")
    missing = {m: f for m, f in _third_party_imports(ROOT / "tests").items() if m not in declared}
    assert not missing, f"imported by the tests but not declared (add it to the test extra): {missing}"


def test_the_test_extra_holds_nothing_the_tests_do_not_import():
    imported = set(_third_party_imports(ROOT / "tests"))
    test_only = {_import_name(r) for r in _project()["optional-dependencies"]["test"]}
    unused = test_only - imported - set(USED_WITHOUT_IMPORT)
    assert not unused, f"in the test extra but never imported by tests/: {sorted(unused)}"


def test_the_core_leaves_the_optional_features_out():
    core = {_import_name(r) for r in _project()["dependencies"]}
    assert not core & {"fastapi", "uvicorn", "skimage", "onnx", "onnxscript", "onnxruntime", "zarr", "scipy"}


#: Extras that ``all`` leaves out, and why.
NOT_IN_ALL = {"mlflow": "a tracking server's stack (SQLAlchemy, Flask, ...): installed where runs are tracked",
              "ray": "a cluster runtime (ray, pyarrow; hundreds of MB): installed where inference is distributed"}


def test_all_installs_every_extra_but_the_tests():
    (requirement,) = _project()["optional-dependencies"]["all"]
    listed = re.fullmatch(r"pixelseg\[([a-z,-]+)\]", requirement.replace(" ", "")).group(1).split(",")
    assert sorted(listed) == sorted(e for e in _package_extras() if e not in NOT_IN_ALL)


def test_py_typed_ships_with_the_package():
    assert (ROOT / "pixelseg" / "py.typed").is_file()
    package_data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["pixelseg"]


def test_project_metadata_names_urls_and_classifiers():
    project = _project()
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(project["urls"])
    assert "Typing :: Typed" in project["classifiers"]
    python = {c.rsplit(":: ", 1)[1] for c in project["classifiers"] if c.startswith("Programming Language :: Python :: 3.")}
    assert min(python, key=lambda v: tuple(map(int, v.split(".")))) == project["requires-python"].removeprefix(">=")
