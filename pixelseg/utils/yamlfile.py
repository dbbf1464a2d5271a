"""Reading a YAML file the user wrote: one error naming the file for every way it can fail."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pixelseg.errors import ConfigurationError
from pixelseg.utils.text import read_utf8

__all__ = ["load_yaml"]


def load_yaml(path: str | os.PathLike, what: str = "config") -> Any:
    """The content of the YAML file ``path`` (an empty file gives ``{}``).

    Args:
        path: the file.
        what: what the file is, for the messages ("config", "options").

    Raises:
        FileNotFoundError: no such file ("<what> file <path> does not exist").
        DataError: the file is not UTF-8 text (names the file and the byte).
        ConfigurationError: the file is not valid YAML (names the file).
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    text = read_utf8(path, f"the {what} file")
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
