"""The info job (``pixelseg info``): what a dataset folder, or the ``data:`` block of a YAML
file, reads, and every problem found."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pixelseg.data.report import inspect_dataset
from pixelseg.workflow._common import data_from_yaml

__all__ = ["run_info", "YAML_SUFFIXES"]

YAML_SUFFIXES = (".yaml", ".yml")


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
        spec, classes = data_from_yaml(target, classes)
        report = inspect_dataset(class_set=classes, data=spec)
    else:
        report = inspect_dataset(target, classes)
    echo(report.to_text())
    return 1 if report.problems else 0
