"""Reading a YAML file the user wrote: one error naming the file for every way it can fail."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pixelseg.errors import ConfigurationError

__all__ = ["load_yaml"]


def load_yaml(path: str | os.PathLike, what: str = "config") -> Any:
    """The content of the YAML file ``path`` (an empty file gives ``{}``).

    Args:
        path: the file.
        what: what the file is, for the messages ("config", "options").

    Raises:
        FileNotFoundError: no such file ("<what> file <path> does not exist").
        ConfigurationError: the file is not UTF-8 text or not valid YAML (names the file).
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
