"""What several jobs share: their output folder, reading a checkpoint with one-sentence errors,
and the ``data:`` block of a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pixelseg.errors import ConfigurationError, DataError, PixelsegError

__all__ = ["output_folder", "run_folder", "open_checkpoint", "data_from_yaml"]


def run_folder(output: str | Path | None, kind: str) -> Path:
    """``output`` as a Path, or the default run folder ``runs/<kind>-<YYYYmmdd-HHMMSS>`` (local time)."""
    import time

    return Path(output) if output is not None else Path("runs") / time.strftime(f"{kind}-%Y%m%d-%H%M%S")


def output_folder(path: str | Path, option: str = "--output", empty: bool = False, overwrite: bool = False) -> Path:
    """Create the output folder ``path`` (and its parents) and return it.

    Args:
        path: the folder.
        option: the command-line option that named it, shown in the errors (``"--out"``).
        empty: refuse a folder that already holds files (a run folder), unless ``overwrite``.
        overwrite: allow a non-empty folder when ``empty``.

    Raises:
        ConfigurationError: ``path`` is a file, or (with ``empty``) a non-empty folder and
            ``overwrite`` is False; the message names the path.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"{option} {path} is a file, not a folder")
    if empty and not overwrite and path.is_dir() and any(path.iterdir()):
        raise ConfigurationError(f"output folder {path} is not empty; pass --overwrite or choose another {option}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_checkpoint(path: str | Path):
    """:func:`pixelseg.checkpoint.load_network` with one-sentence errors for files that are
    not pixelseg checkpoints (returns its ``TrainedNetwork``). ``path`` may name a shipped
    network (``camvid``, see ``pixelseg models``).

    Raises:
        FileNotFoundError: no such file and no shipped network of that name.
        DataError: ``path`` is a folder, or not a readable pixelseg checkpoint; one line naming it.
    """
    from pixelseg.checkpoint import load_network
    from pixelseg.pretrained import resolve_network

    path = resolve_network(path, role="checkpoint")
    if path.is_dir():
        raise DataError(f"checkpoint {path} is a folder, not a pixelseg checkpoint file")
    try:
        return load_network(path)
    except PixelsegError as exc:
        lines = str(exc).strip().splitlines()
        if len(lines) <= 1:
            raise
        first = lines[0].split(". ")[0].rstrip(" .:")
        raise DataError(first if str(path) in first else f"{path} is not a pixelseg checkpoint: {first}") from None
    except Exception as exc:  # torch.load and friends raise many kinds
        raise DataError(f"{path} is not a pixelseg checkpoint ({type(exc).__name__}: {exc})") from None


def data_from_yaml(path: str | Path, classes: Any = None) -> tuple[Any, Any]:
    """The ``data:`` block (a :class:`~pixelseg.data.spec.DataSpec`, paths resolved against
    the file's folder) and the classes of a YAML file such as ``train.yaml``; ``classes``
    (a ClassSet or file) wins over the file's ``classes:``.

    Raises:
        FileNotFoundError: no such file. ConfigurationError: bad YAML, no ``data:`` block,
            a bad key or value (naming the file).
    """
    from pixelseg.data.classes import ClassSet
    from pixelseg.data.spec import parse_data_spec
    from pixelseg.utils.yamlfile import load_yaml

    path = Path(path)
    raw = load_yaml(path, "config")
    if not isinstance(raw, dict) or "data" not in raw:
        raise ConfigurationError(f"{path}: expected a mapping with a 'data:' block (as train.yaml holds)")
    spec = parse_data_spec(raw["data"], path).resolved(path.parent.resolve())
    if classes is None and isinstance(raw.get("classes"), str):
        classes = path.parent / raw["classes"]
    elif classes is None and isinstance(raw.get("classes"), dict):
        try:
            classes = ClassSet(**raw["classes"])
        except TypeError as exc:
            raise ConfigurationError(f"{path}: classes: {exc}") from None
    return spec, classes
