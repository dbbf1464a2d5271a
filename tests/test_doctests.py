"""The ``Examples`` sections of the main public functions run as doctests.

Only these objects are collected (not ``--doctest-modules`` over the whole package), so
every example stays small, fast and self-contained: tiny arrays, files only in a temporary
folder, at most a tiny untrained network.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

# (module, name): the ten main steps of the workflow, in the order data flows.
DOCUMENTED = [
    ("pixelseg.data.classes", "ClassSet"),
    ("pixelseg.data.datastores", "PixelLabelDatastore"),
    ("pixelseg.data.combining", "combine"),
    ("pixelseg.data.partition", "partition"),
    ("pixelseg.data.statistics", "count_each_label"),
    ("pixelseg.data.statistics", "class_weights"),
    ("pixelseg.models.registry", "create_network"),
    ("pixelseg.inference.segment", "semanticseg"),
    ("pixelseg.evaluation.evaluate", "evaluate_semantic_segmentation"),
    ("pixelseg.inference.overlay", "label_overlay"),
]

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize(("module", "name"), DOCUMENTED, ids=[n for _, n in DOCUMENTED])
def test_examples_run(module, name):
    mod = importlib.import_module(module)
    obj = getattr(mod, name)
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, module=mod, globs={})
    examples = sum(len(t.examples) for t in tests)
    assert examples >= 3, f"{module}.{name} has {examples} doctest examples; its docstring needs an Examples section"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_every_documented_name_is_public():
    """The examples document the names users import from ``pixelseg``."""
    import pixelseg

    for module, name in DOCUMENTED:
        assert name in pixelseg.__all__
        assert getattr(pixelseg, name) is getattr(importlib.import_module(module), name)
