"""Safe access to the two folders the labeling app works on.

The app only ever touches

- image files directly inside ``images_dir`` (read only; never written), and
- ``<labels_dir>/<image stem>.png`` (read and written atomically).

An image is named by its file name. A name with a path separator, ``..``, a NUL byte or
a leading dot is refused (:class:`BadName`, answered 400); a name that is no image in the
folder is unknown (:class:`NotFound`, 404); a file whose real path (symlinks resolved)
lies outside its folder is refused (:class:`OutsideFolder`, 403).
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from pixelseg.errors import ConfigurationError, DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")
LABEL_SUFFIX = ".png"
#: Longest image name served: ``.<stem>.png.<8 random>.tmp.png`` must stay within 255 bytes.
MAX_NAME_LENGTH = 200


class BadName(ValueError):
    """The requested name is not a plain file name (traversal attempt or garbage)."""


class NotFound(LookupError):
    """No such image in the images folder."""


class OutsideFolder(PermissionError):
    """The file is a symlink (or lies behind one) leading out of its folder."""


def _natural_key(name: str):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class ImageEntry:
    """One image of the folder and where its label lives."""

    name: str
    image_path: Path
    label_path: Path


class LabelingFolders:
    """The images folder (read only) and the labels folder (read/write).

    Args:
        images_dir: folder of images (non-recursive). Must exist.
        labels_dir: folder for the label PNGs; created when missing (its parent must exist).

    Raises:
        ConfigurationError: a folder is missing or not a directory, or both are the same
            folder (IMAGES_DIR is never written).
    """

    def __init__(self, images_dir, labels_dir):
        self.images_dir = Path(images_dir).resolve()
        if not self.images_dir.is_dir():
            raise ConfigurationError(f"images folder {images_dir} does not exist or is not a folder")
        labels = Path(labels_dir)
        if labels.exists() and not labels.is_dir():
            raise ConfigurationError(f"labels folder {labels_dir} exists and is not a folder")
        if not labels.exists():
            if not labels.parent.is_dir():
                raise ConfigurationError(
                    f"cannot create the labels folder {labels_dir}: its parent does not exist"
                )
            labels.mkdir()
        self.labels_dir = labels.resolve()
        if self.labels_dir == self.images_dir:
            raise ConfigurationError(
                f"labels folder {labels_dir} is the images folder; the app never writes into "
                "the images folder, give a separate --labels folder"
            )

    # ------------------------------------------------------------------ listing
    def list_images(self) -> list[ImageEntry]:
        """The images in natural order (img_2 before img_10); symlinks out are left out."""
        entries = []
        for path in self.images_dir.iterdir():
            if path.name.startswith(".") or path.suffix.lower() not in IMAGE_EXTENSIONS:
                continue
            if not self._inside(path, self.images_dir) or not path.is_file():
                continue
            entries.append(self._entry(path.name))
        entries.sort(key=lambda e: _natural_key(e.name))
        return entries

    def duplicate_stems(self, entries: list[ImageEntry]) -> set[str]:
        """Names of images that share their stem (and hence their label file) with another."""
        by_stem: dict[str, list[str]] = {}
        for entry in entries:
            by_stem.setdefault(entry.image_path.stem, []).append(entry.name)
        return {name for names in by_stem.values() if len(names) > 1 for name in names}

    def shares_stem(self, entry: ImageEntry) -> bool:
        """True when another image of the folder has the same stem (hence the same label file)."""
        stem = entry.image_path.stem
        return any(
            path.name != entry.name and path.suffix.lower() in IMAGE_EXTENSIONS
            for path in self.images_dir.glob(glob.escape(stem) + ".*")
            if path.stem == stem
        )

    # ---------------------------------------------------------------- resolving
    @staticmethod
    def check_name(name: str) -> None:
        """Raise :class:`BadName` unless ``name`` is a plain, visible file name."""
        if (
            not name
            or name in (".", "..")
            or name.startswith(".")
            or any(c in name for c in ("/", "\\", "\x00"))
        ):
            raise BadName(f"bad image name {name!r}: expected a plain file name")
        size = len(name.encode("utf-8", "surrogateescape"))
        if size > MAX_NAME_LENGTH:
            raise BadName(
                f"image name of {size} bytes: the labeler takes names of at most {MAX_NAME_LENGTH} bytes "
                "(its label file and temporary file must fit the file system's 255); rename the image"
            )

    def entry(self, name: str) -> ImageEntry:
        """The image called ``name`` with its label path, checked.

        Raises:
            BadName: not a plain file name.
            NotFound: no such image file in the images folder.
            OutsideFolder: the image or its label file is a symlink leading out.
        """
        self.check_name(name)
        path = self.images_dir / name
        if path.suffix.lower() not in IMAGE_EXTENSIONS or not (path.is_file() or path.is_symlink()):
            raise NotFound(f"no image {name!r} in {self.images_dir}")
        if not self._inside(path, self.images_dir):
            raise OutsideFolder(f"image {name!r} is a link leading out of the images folder")
        if not path.is_file():
            raise NotFound(f"no image {name!r} in {self.images_dir}")
        entry = self._entry(name)
        if (entry.label_path.exists() or entry.label_path.is_symlink()) and not self._inside(
            entry.label_path, self.labels_dir
        ):
            raise OutsideFolder(
                f"label file {entry.label_path.name!r} is a link leading out of the labels folder"
            )
        if entry.label_path.exists() and not entry.label_path.is_file():
            raise DataError(f"the label path {entry.label_path} of image {name!r} is not a file; move it away")
        return entry

    def _entry(self, name: str) -> ImageEntry:
        path = self.images_dir / name
        return ImageEntry(name=name, image_path=path, label_path=self.labels_dir / (path.stem + LABEL_SUFFIX))

    @staticmethod
    def _inside(path: Path, folder: Path) -> bool:
        try:
            return path.resolve().is_relative_to(folder)
        except (OSError, RuntimeError):  # broken or looping links
            return False
