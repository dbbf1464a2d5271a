"""What several jobs share: their output folder and reading a checkpoint with one-sentence errors."""

from __future__ import annotations

from pathlib import Path

from pixelseg.errors import ConfigurationError, DataError, PixelsegError

__all__ = ["output_folder", "open_checkpoint"]


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
    not pixelseg checkpoints (returns its ``TrainedNetwork``).

    Raises:
        FileNotFoundError: no such file.
        DataError: ``path`` is a folder, or not a readable pixelseg checkpoint; one line naming it.
    """
    from pixelseg.checkpoint import load_network

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
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
