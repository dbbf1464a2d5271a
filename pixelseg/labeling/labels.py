"""Label files of the labeling app: read, version, decode uploads, write atomically.

A label is an H x W uint8 array of class indices 0..K-1 with void (unlabelled) = 255
(:data:`pixelseg.data.VOID`). On disk it is a palette ("P") PNG with the class colours
embedded, whose pixel values are the classes' label IDs (the class index itself for the
default IDs), so that ``PixelLabelDatastore(labels_dir, ClassSet.load(classes.json))``
reads back exactly the array that was saved.

Versions: a label file's version is a hash of its bytes ("" when there is no file). The
client sends the version it loaded with each save; a different version on disk means
someone else changed the file, and the save is refused (HTTP 409) unless forced.
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.labeling.locking import FolderLock

NO_FILE_VERSION = ""


class Conflict(Exception):
    """The label file on disk is not the version the client loaded."""

    def __init__(self, current_version: str):
        super().__init__(f"label file changed on disk (now version {current_version or 'deleted'})")
        self.current_version = current_version


def version_of(data: bytes) -> str:
    """Version of a label file's content: 16 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:16]


def file_version(path: Path) -> str:
    """:func:`version_of` the file's bytes; "" when the file is absent."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return NO_FILE_VERSION
    return version_of(data)


def _grey_id(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value <= 255:
        raise ConfigurationError(
            f"{what} is {value!r}; the labeling app writes palette PNGs, which need integer "
            "label ids 0..255 (use the default ids: a classes file without label ids)"
        )
    return int(value)


class LabelCodec:
    """Class indices <-> values and palette of the saved palette PNG, for one ClassSet.

    Class i is written as its (first) label ID, void pixels as the first void ID (255 for
    a class set made by the app), so ``ClassSet.encode`` reads the file back exactly.

    Raises:
        ConfigurationError: an RGB class set, an ID outside 0..255, or no void ID.
    """

    def __init__(self, class_set):
        self.class_set = class_set
        k = class_set.num_classes
        if class_set.id_type != "grey":
            raise ConfigurationError(
                "the classes file declares RGB label ids; the labeling app writes palette PNGs "
                "and needs integer ids (use the default ids: a classes file without label ids)"
            )
        values = [_grey_id(ids[0], f"label id of class {name!r}") for name, ids in zip(class_set.names, class_set.label_ids)]
        voids = [v for v in class_set.void_ids if 0 <= v <= 255]
        if not voids:
            raise ConfigurationError(
                "the classes file declares no void id in 0..255; the labeling app stores "
                "unlabelled pixels as void (add \"void_ids\": [255])"
            )
        self.void_value = VOID if VOID in voids else voids[0]
        self.lut = np.full(256, self.void_value, dtype=np.uint8)  # class index -> file value
        self.lut[np.arange(k)] = values
        self.identity = values == list(range(k)) and self.void_value == VOID
        palette = np.zeros((256, 3), dtype=np.uint8)
        palette[values] = np.asarray(class_set.colors, dtype=np.uint8)[:k]
        self.palette = palette.reshape(-1).tolist()

    def check(self, label: np.ndarray, source: str) -> None:
        """Raise DataError unless every value is a class index 0..K-1 or void 255."""
        k = self.class_set.num_classes
        counts = np.bincount(label.reshape(-1), minlength=256)
        bad = [v for v in np.nonzero(counts)[0] if k <= v < VOID]
        if bad:
            detail = ", ".join(f"{v} ({counts[v]} px)" for v in bad[:10])
            raise DataError(f"{source}: values {detail} are no class index (0..{k - 1}) nor void 255")

    def to_file(self, label: np.ndarray) -> np.ndarray:
        return label if self.identity else self.lut[label]


def read_label(path: Path, class_set) -> np.ndarray:
    """Read a label file exactly as :class:`PixelLabelDatastore` does (``pixelseg.data.io``): H x W uint8, void 255.

    Raises:
        DataError: the file holds values no class maps to (the message names the file).
    """
    from pixelseg.data.io import read_label as read_label_file

    return np.asarray(read_label_file(Path(path), class_set), dtype=np.uint8)


def read_label_versioned(path: Path, class_set, attempts: int = 5) -> tuple[np.ndarray | None, str]:
    """(label, version) read consistently: the version is that of the bytes decoded.

    Returns (None, "") when there is no file. Retries when the file changes while it is
    read (another writer); DataError when it keeps changing.
    """
    for _ in range(attempts):
        before = file_version(path)
        if not before:
            return None, NO_FILE_VERSION
        try:
            label = read_label(path, class_set)
        except FileNotFoundError:
            continue
        if file_version(path) == before:
            return label, before
    raise DataError(f"label file {Path(path).name} keeps changing while it is read; try again")


def decode_upload(body: bytes, encoding: str | None, height: int, width: int) -> np.ndarray:
    """Decode an uploaded label: H*W raw uint8 bytes, optionally gzip/deflate compressed.

    Raises:
        DataError: wrong size, unknown encoding, or corrupt compressed data.
    """
    expected = height * width
    encoding = (encoding or "identity").lower()
    if encoding in ("gzip", "deflate"):
        wbits = 31 if encoding == "gzip" else 15
        decompressor = zlib.decompressobj(wbits)
        try:
            raw = decompressor.decompress(body, expected + 1)  # guard against zip bombs
        except zlib.error as exc:
            raise DataError(f"label upload: corrupt {encoding} data ({exc})") from None
    elif encoding == "identity":
        raw = body
    else:
        raise DataError(f"label upload: unsupported Content-Encoding {encoding!r} (use gzip or none)")
    if len(raw) != expected:
        raise DataError(
            f"label upload holds {len(raw)} bytes{' or more' if len(raw) > expected else ''}; "
            f"the image is {width} x {height}, so {expected} bytes (one uint8 per pixel) are expected"
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width)


class LabelWriter:
    """Writes label PNGs atomically with a version check, one writer at a time per folder.

    The check and the write run under :class:`~pixelseg.labeling.locking.FolderLock`, which
    holds across processes: two servers on one labels folder saving over the same version
    give one success and one :class:`Conflict`.
    """

    def save(self, label: np.ndarray, path: Path, codec: LabelCodec, base_version: str | None) -> str:
        """Write ``label`` to ``path`` unless the file changed since ``base_version``.

        Args:
            label: H x W uint8 class indices, void 255 (checked).
            path: destination PNG inside the labels folder.
            codec: the class set's :class:`LabelCodec`.
            base_version: version the client loaded ("" = no file then); None = force.

        Returns:
            The new version of the file.

        Raises:
            Conflict: the file on disk is at another version.
            DataError: values that are no class index.
        """
        from pixelseg.utils.atomic import save_png

        codec.check(label, source=f"label for {path.name}")
        with FolderLock(path.parent):
            current = file_version(path)
            if base_version is not None and current != base_version:
                raise Conflict(current)
            save_png(codec.to_file(label), path, palette=codec.palette, overwrite=True)
            return file_version(path)
