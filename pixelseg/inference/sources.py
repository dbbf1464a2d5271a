"""Where images come from: datastores, folders, globs, file lists; reading in DataLoader workers.

A reading failure in a worker is not raised there: it comes back as a message, so that
``semanticseg`` can report and skip the file (``on_error="skip"``) or raise a
:class:`~pixelseg.errors.DataError` naming it (``on_error="raise"``).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import torch.utils.data

from pixelseg.errors import ConfigurationError, DataError

_GLOB_CHARS = set("*?[")
#: File suffixes read as videos (frame by frame, with PyAV) rather than as images.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def is_path_like(images) -> bool:
    """True for a str/Path, or a non-empty list/tuple made only of them."""
    if isinstance(images, (str, os.PathLike)):
        return True
    return (
        isinstance(images, (list, tuple))
        and len(images) > 0
        and all(isinstance(x, (str, os.PathLike)) for x in images)
    )


def is_video_path(images) -> bool:
    """True for one str/Path whose suffix is a video's (:data:`VIDEO_SUFFIXES`, any case)."""
    return isinstance(images, (str, os.PathLike)) and Path(images).suffix.lower() in VIDEO_SUFFIXES


def is_datastore(images) -> bool:
    """Duck typing for ImageDatastore-like objects: ``.files``, ``len`` and ``.read(i)``."""
    return hasattr(images, "read") and hasattr(images, "files") and hasattr(images, "__len__")


def image_datastore(images, include_subfolders: bool = False, channels: int | None = 3):
    """An ``ImageDatastore`` from a datastore (returned as is), a folder, a glob pattern, a
    file, or a list of files; ``channels`` as for ``ImageDatastore`` (3: RGB).

    Raises:
        DataError: a folder, file or pattern that names no image.
    """
    from pixelseg.data import ImageDatastore

    if is_datastore(images):
        return images
    if isinstance(images, (list, tuple)):
        return ImageDatastore([Path(p) for p in images], channels=channels)
    text = os.fspath(images)
    path = Path(text)
    if path.is_dir():
        return ImageDatastore(path, include_subfolders=include_subfolders, channels=channels)
    if path.is_file():
        return ImageDatastore([path], channels=channels)
    if _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(text, recursive=True))
        files = [Path(m) for m in matches if Path(m).is_file()]
        if not files:
            raise DataError(f"the pattern {text!r} matches no file")
        return ImageDatastore(files, channels=channels)
    raise DataError(f"{text} does not exist (expected an image, a folder or a glob pattern)")


def describe_read_error(file, exc: BaseException) -> str:
    """One sentence on why ``file`` could not be read; a Pillow decompression bomb gets a
    pointer to the tiled path."""
    from PIL import Image

    chain, e = [], exc
    while e is not None and len(chain) < 5:
        chain.append(e)
        e = e.__cause__ or e.__context__
    if any(isinstance(e, Image.DecompressionBombError) for e in chain):
        return (
            f"{file} is too large to decode whole (Pillow refuses it as a possible "
            "decompression bomb); label it tile by tile with "
            "pixelseg.inference.semanticseg_tiled (or `pixelseg predict --tile-size N`), "
            "ideally from a tiled TIFF"
        )
    text = str(exc)
    return text if str(file) in text else f"{file}: {text or type(exc).__name__}"


class ReadDataset(torch.utils.data.Dataset):
    """Item i -> ``(i, image H x W x C uint8 or None, error message or None)``."""

    def __init__(self, datastore):
        self.datastore = datastore

    def __len__(self) -> int:
        return len(self.datastore)

    def __getitem__(self, i: int):
        try:
            return i, self.datastore.read(i), None
        except Exception as exc:  # reported by the caller, with the file name
            return i, None, describe_read_error(self.datastore.files[i], exc)


def _identity(sample):
    return sample


def sample_loader(datastore, num_workers: int | None, prefetch: int):
    """A DataLoader yielding ReadDataset samples one by one, read ahead by worker processes.

    ``num_workers=None`` picks 0 for up to 2 images, else min(4, CPUs - 1) (at least 1).
    """
    n = len(datastore)
    if num_workers is None:
        cpus = os.cpu_count() or 1
        num_workers = 0 if n <= 2 else min(4, max(1, cpus - 1))
    if num_workers < 0:
        raise ConfigurationError(f"num_workers must be >= 0, got {num_workers}")
    extra = {"prefetch_factor": max(2, prefetch), "persistent_workers": False} if num_workers else {}
    return torch.utils.data.DataLoader(
        ReadDataset(datastore),
        batch_size=None,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_identity,
        **extra,
    )
