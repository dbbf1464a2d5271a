"""Atomic file writes: never a half-written output, never a user file overwritten unasked.

Every file pixelseg writes goes through :func:`atomic_write`: the content is written to a
temporary file in the destination folder (so the final rename stays on one file system) and
moved into place with :func:`os.replace`, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "save_png"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` when the block succeeds.

    Args:
        path: the final file.
        overwrite: replace ``path`` when it exists. Default False.

    Yields:
        Path of a temporary file in the same folder, with the same suffix as ``path`` (so
        libraries that pick a format from the suffix still work). The caller writes it.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False (checked before and
            again after writing).
        FileNotFoundError: the destination folder does not exist.

    If the block raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite on the command line) to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"the folder {folder} for {path.name} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp
        if not overwrite and path.exists():
            raise FileExistsError(f"{path} appeared while it was being written; not replaced")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def save_png(
    array: np.ndarray,
    path: str | os.PathLike,
    palette: Sequence[int] | np.ndarray | None = None,
    overwrite: bool = False,
) -> Path:
    """Write an array as a lossless PNG, atomically.

    Args:
        array: H x W uint8 (grey "L", or palette "P" indices when ``palette`` is given),
            H x W uint16 (16-bit grey), or H x W x 3 / H x W x 4 uint8 (RGB / RGBA).
        path: destination file (.png).
        palette: optional flat list of 768 ints (or a K x 3 uint8 array, padded with black)
            making a palette PNG whose pixel values are the indices, e.g.
            ``ClassSet.palette()``. Only for H x W uint8 arrays.
        overwrite: replace an existing file. Default False.

    Returns:
        The path written.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        ConfigurationError: unsupported dtype/shape, or a palette with a non-uint8 array.
    """
    from PIL import Image

    from pixelseg.errors import ConfigurationError

    array = np.asarray(array)
    if array.ndim == 2 and array.dtype == np.uint8:
        image = Image.fromarray(array, mode="L")
    elif array.ndim == 2 and array.dtype == np.uint16:
        image = Image.fromarray(array)
    elif array.ndim == 3 and array.shape[2] in (3, 4) and array.dtype == np.uint8:
        image = Image.fromarray(array, mode="RGB" if array.shape[2] == 3 else "RGBA")
    else:
        raise ConfigurationError(
            f"save_png: cannot write an array of shape {array.shape} and dtype {array.dtype} "
            f"to {path}; expected H x W uint8/uint16 or H x W x 3/4 uint8"
        )
    if palette is not None:
        if array.ndim != 2 or array.dtype != np.uint8:
            raise ConfigurationError(
                f"save_png: a palette needs an H x W uint8 index array, got shape "
                f"{array.shape} dtype {array.dtype} for {path}"
            )
        flat = np.asarray(palette, dtype=np.int64).reshape(-1)
        if flat.size > 768 or flat.size % 3 or flat.min(initial=0) < 0 or flat.max(initial=0) > 255:
            raise ConfigurationError(
                f"save_png: palette for {path} must hold at most 256 RGB triplets of 0..255, "
                f"got {flat.size} values"
            )
        flat = np.concatenate([flat, np.zeros(768 - flat.size, dtype=np.int64)])
        image = Image.frombytes("P", (array.shape[1], array.shape[0]), np.ascontiguousarray(array).tobytes())
        image.putpalette(flat.astype(np.uint8).tolist())
    with atomic_write(path, overwrite=overwrite) as tmp:
        image.save(tmp, format="PNG")
    return Path(path)


def check_output_paths(inputs: Sequence, outputs: Sequence, overwrite: bool = False) -> None:
    """Check a one-output-per-input plan before anything is written.

    Args:
        inputs, outputs: paths of the same length; ``outputs[i]`` is written from ``inputs[i]``.
        overwrite: whether existing outputs may be replaced.

    Raises:
        ConfigurationError: two inputs would write the same output, or an output is one of the
            inputs (never allowed, even with ``overwrite``: it would destroy the user's file).
        FileExistsError: an output exists and ``overwrite`` is False (the message counts them).
    """
    from pixelseg.errors import ConfigurationError

    sources = {Path(f).resolve(): Path(f) for f in inputs}
    seen: dict[Path, Path] = {}
    for f, p in zip(inputs, outputs):
        key = Path(p).resolve()
        if key in sources:
            raise ConfigurationError(
                f"the output {p} would replace the input {sources[key]}; write to another folder or use a name prefix"
            )
        if key in seen:
            raise ConfigurationError(f"{seen[key]} and {f} would both be written to {p}; give files distinct names")
        seen[key] = Path(f)
    if not overwrite:
        existing = [p for p in outputs if Path(p).exists()]
        if existing:
            raise FileExistsError(
                f"{len(existing)} output file(s) exist already, e.g. {existing[0]}; "
                "pass overwrite=True (--overwrite on the command line) to replace them"
            )
