"""The info job (``pixelseg info``): what a dataset folder, or the ``data:`` block of a YAML
file, reads, and every problem found."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pixelseg.data.report import DatasetReport, inspect_dataset
from pixelseg.data.spec import parse_data_spec
from pixelseg.errors import ConfigurationError
from pixelseg.utils.yamlfile import load_yaml

__all__ = ["run_info", "YAML_SUFFIXES"]

YAML_SUFFIXES = (".yaml", ".yml")


def _from_yaml(path: Path, classes: str | os.PathLike | None) -> DatasetReport:
    raw = load_yaml(path, "config")
    if not isinstance(raw, dict) or "data" not in raw:
        raise ConfigurationError(f"{path}: expected a mapping with a 'data:' block (as train.yaml holds)")
    spec = parse_data_spec(raw["data"], path).resolved(path.parent.resolve())
    if classes is None and isinstance(raw.get("classes"), str):
        classes = path.parent / raw["classes"]
    elif classes is None and isinstance(raw.get("classes"), dict):
        from pixelseg.data.classes import ClassSet

        classes = ClassSet(**raw["classes"])
    return inspect_dataset(class_set=classes, data=spec)


def run_info(target: str | os.PathLike, classes: str | os.PathLike | None = None,
             echo: Callable[[str], None] = print) -> int:
    """Print the report of ``target`` (a dataset folder, or a YAML file whose ``data:`` block
    and ``classes`` are read as ``pixelseg train`` reads them); return the exit code: 0, or 1
    when problems were found.

    Raises:
        FileNotFoundError: no such folder or file. DataError: an unknown layout.
        ConfigurationError: a bad YAML file or ``data:`` block.
    """
    target = Path(target)
    if target.is_file() and target.suffix.lower() in YAML_SUFFIXES:
        report = _from_yaml(target, classes)
    else:
        report = inspect_dataset(target, classes)
    echo(report.to_text())
    return 1 if report.problems else 0
