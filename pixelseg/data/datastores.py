"""Lazy datastores of images and of label files (MATLAB ``imageDatastore`` /
``pixelLabelDatastore``). They hold file names only; pixels are read on ``read(i)``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.data.classes import ClassSet
from pixelseg.data.files import as_paths, list_files, natural_sorted, select_indices, stem
from pixelseg.data.io import IMAGE_EXTENSIONS, LABEL_EXTENSIONS, read_image
from pixelseg.data.label_checks import VoidWatch
from pixelseg.data.label_reading import LABEL_READ_OPTIONS, LabelReader
from pixelseg.data.snapping import LabelSnapWarning, SnapLog
from pixelseg.errors import ConfigurationError

__all__ = ["ImageDatastore", "PixelLabelDatastore"]


class _FileDatastore:
    """Shared machinery: a list of file names, subsets, shuffles, iteration."""

    _what = "files"
    _default_extensions: tuple[str, ...] = ()

    def __init__(
        self,
        location_or_files: Any,
        include_subfolders: bool = False,
        file_extensions: Sequence[str] | str | None = None,
        read_fn: Callable[[str], np.ndarray] | None = None,
    ) -> None:
        single_folder = isinstance(location_or_files, (str, os.PathLike)) and os.path.isdir(location_or_files)
        # A single folder's listing is natural-sorted on first use, so that combine() can
        # pair 100,000 label files without sorting them (it orders them by the images).
        self._file_list: list[str] = list_files(
            location_or_files,
            include_subfolders=include_subfolders,
            file_extensions=file_extensions,
            default_extensions=self._default_extensions,
            what=self._what,
            sort=not single_folder,
        )
        self._unsorted = single_folder
        self._read_fn = read_fn
        self._paths: list[Path] | None = None

    @property
    def _files(self) -> list[str]:
        if self._unsorted:
            self._file_list = natural_sorted(self._file_list)
            self._unsorted = False
        return self._file_list

    def _with_files(self, files: list[str]):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._file_list = files
        new._unsorted = False
        new._paths = None
        return new

    @property
    def files(self) -> list[Path]:
        """File names (list of Path), in datastore order."""
        if self._paths is None:
            self._paths = as_paths(self._files)
        return list(self._paths)

    @property
    def names(self) -> list[str]:
        """File stems (name without folder and suffix), in datastore order."""
        return [stem(f) for f in self._files]

    def __len__(self) -> int:
        return len(self._file_list)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.read(i)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.read(i)

    def _file(self, i: int) -> str:
        n = len(self._files)
        if not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise IndexError(f"index {i!r} out of range for a datastore of {n} files")
        return self._files[int(i)]

    def read(self, i: int) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def subset(self, indices: Any):
        """A new datastore of the same type holding the files at ``indices`` (ints, a
        boolean mask or a slice), in that order. Raises ConfigurationError when out of range."""
        idx = select_indices(indices, len(self), type(self).__name__)
        return self._with_files([self._files[i] for i in idx])

    def shuffle(self, seed: int | None = 0):
        """A new datastore with the files in a random order, reproducible for an int ``seed``
        (numpy ``Generator(PCG64(seed))``, the same on every machine)."""
        rng = np.random.Generator(np.random.PCG64(seed))
        return self.subset(rng.permutation(len(self)))

    def sorted(self):
        """A new datastore with the files in natural order."""
        return self._with_files(natural_sorted(self._files))

    def _read_settings(self) -> dict[str, Any]:
        """What besides the file names decides what ``read`` returns (compared by :meth:`concatenate`)."""
        return {"read_fn": self._read_fn}

    def concatenate(self, *others):
        """A new datastore of this datastore's files followed by those of each of ``others``
        (MATLAB ``imageDatastore(cat(1, a.Files, b.Files))``), read as this one reads them.

        Raises:
            ConfigurationError: a datastore of another type, or one that reads its files
                otherwise (another class set, label reading option, channel count or
                ``read_fn``), naming the setting and both values.
        """
        mine = self._read_settings()
        files = list(self._files)
        for other in others:
            if type(other) is not type(self):
                raise ConfigurationError(f"concatenate: a {type(self).__name__} cannot take a {type(other).__name__}")
            theirs = other._read_settings()
            for key, value in mine.items():
                if theirs[key] != value:
                    raise ConfigurationError(f"concatenate: the datastores read their files differently: {key} is "
                                             f"{value!r} in one and {theirs[key]!r} in the other")
            files += other._files
        return self._with_files(files)

    def __repr__(self) -> str:
        first = f", first={self._files[0]!r}" if self._files else ""
        return f"{type(self).__name__}({len(self)} files{first})"


class ImageDatastore(_FileDatastore):
    """Lazy collection of image files (MATLAB ``imageDatastore``).

    Args:
        location_or_files: a folder, a file, a glob pattern (``"data/*.png"``), or a list of
            them. Folders are listed in natural order (``img_2`` before ``img_10``); files
            given explicitly keep the order given.
        include_subfolders: also list subfolders. Default False.
        file_extensions: extensions to pick up, e.g. ``[".png"]``. Default: PNG, JPEG, BMP,
            TIFF, GIF, WebP, PPM/PGM.
        read_fn: custom reader ``read_fn(path: str) -> array`` replacing :func:`read_image`.
        channels, high_bit_depth: passed to :func:`pixelseg.data.io.read_image`
            (default: H x W x 3 RGB; 16-bit images kept as uint16).

    ``read(i)`` returns H x W x 3 uint8 RGB (see :func:`~pixelseg.data.io.read_image`).

    Raises:
        FileNotFoundError: a location that does not exist. DataError: no image files found.
    """

    _what = "image files"
    _default_extensions = IMAGE_EXTENSIONS

    def __init__(
        self,
        location_or_files: Any,
        include_subfolders: bool = False,
        file_extensions: Sequence[str] | str | None = None,
        read_fn: Callable[[str], np.ndarray] | None = None,
        channels: int | None = 3,
        high_bit_depth: str = "keep",
    ) -> None:
        super().__init__(location_or_files, include_subfolders, file_extensions, read_fn)
        if high_bit_depth not in ("keep", "scale"):
            raise ConfigurationError(f"high_bit_depth must be 'keep' or 'scale', got {high_bit_depth!r}")
        self.channels = channels
        self.high_bit_depth = high_bit_depth

    def _read_settings(self) -> dict[str, Any]:
        return {**super()._read_settings(), "channels": self.channels, "high_bit_depth": self.high_bit_depth}

    def read(self, i: int) -> np.ndarray:
        """Image i as H x W x 3 uint8 RGB (or as set by channels / high_bit_depth / read_fn)."""
        path = self._file(i)
        if self._read_fn is not None:
            return np.asarray(self._read_fn(path))
        return read_image(path, channels=self.channels, high_bit_depth=self.high_bit_depth)


class PixelLabelDatastore(_FileDatastore):
    """Lazy collection of label files read as class indices (MATLAB ``pixelLabelDatastore``).

    Args:
        location_or_files: folder(s), file(s) or glob pattern(s), as for ImageDatastore.
        class_set: a :class:`~pixelseg.data.ClassSet`, a path to a class set file
            (.json/.yaml/.txt), or a list of class names (then ``label_ids`` as for
            ClassSet, default 0..K-1, and ``void_ids``).
        include_subfolders, file_extensions: as for ImageDatastore (default extensions:
            PNG, BMP, TIFF, GIF, NPY, MAT, PGM/PPM and JPEG, which is refused when read
            unless ``allow_jpeg``).
        read_fn: custom raw reader ``read_fn(path) -> raw array`` (still encoded through
            the class set, with ``tolerance`` or ``threshold``).
        tolerance: int 0..32, default 0 (exact matching); near-miss values within it are
            snapped when unambiguous (:mod:`pixelseg.data.snapping`). The datastore warns
            once (:class:`~pixelseg.data.LabelSnapWarning`), not once per file; the totals
            are in :meth:`snap_summary`.
        allow_jpeg: bool, read JPEG label files anyway. Default False.
        threshold: number or None. Two-class grey masks with soft edges: values >=
            threshold are the class with the larger label ID (e.g. ``threshold=128`` for
            0/255 masks with anti-aliased edges), lower values the other class.
        palette: ``"auto"`` (default: palette files are read through their palette when the
            class set declares RGB IDs, as indices when grey IDs), ``"indices"``, ``"colors"``.
        alpha_void: bool, default True: pixels of alpha 0 in RGBA or grey + alpha files are
            void (False: alpha is ignored).
        mat_variable: str or None, the variable path of the label array in ``.mat`` files
            (e.g. ``"groundTruth/0/Segmentation"``; see :mod:`pixelseg.data.mat_files`).

    ``read(i)`` returns H x W uint8 class indices 0..K-1 with :data:`~pixelseg.data.VOID`
    (255) for void. A raw value that maps to no class and no void ID raises DataError
    naming the file, the values and their pixel counts. When the first files read show only
    class 0 and void (0/255 masks read with 255 as void), a
    :class:`~pixelseg.data.label_checks.LabelCheckWarning` says so, once.

    Raises:
        ConfigurationError: an option of the wrong type or value, or a threshold with a
            class set that is not two grey classes.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from PIL import Image
        >>> from pixelseg import PixelLabelDatastore
        >>> tmp = tempfile.TemporaryDirectory()
        >>> Image.fromarray(np.array([[0, 1, 1], [255, 2, 0]], np.uint8)).save(Path(tmp.name) / "a.png")
        >>> pxds = PixelLabelDatastore(tmp.name, ["sky", "road", "car"], void_ids=[255])
        >>> pxds.names
        ['a']
        >>> pxds.read(0)
        array([[  0,   1,   1],
               [255,   2,   0]], dtype=uint8)
        >>> tmp.cleanup()
    """

    _what = "label files"
    _default_extensions = LABEL_EXTENSIONS

    def __init__(
        self,
        location_or_files: Any,
        class_set: ClassSet | str | os.PathLike | Sequence[str],
        include_subfolders: bool = False,
        file_extensions: Sequence[str] | str | None = None,
        read_fn: Callable[[str], np.ndarray] | None = None,
        tolerance: int = 0,
        allow_jpeg: bool = False,
        label_ids: Sequence[Any] | None = None,
        void_ids: Sequence[Any] = (),
        threshold: float | None = None,
        palette: str = "auto",
        alpha_void: bool = True,
        mat_variable: str | None = None,
    ) -> None:
        self.class_set = _as_class_set(class_set, label_ids, void_ids)
        self.reader = LabelReader(tolerance=tolerance, allow_jpeg=allow_jpeg, threshold=threshold, palette=palette,
                                  alpha_void=alpha_void, mat_variable=mat_variable)
        self.reader.checked(self.class_set)
        super().__init__(location_or_files, include_subfolders, file_extensions, read_fn)
        self._snaps = SnapLog()
        self._watch = VoidWatch(len(self._file_list))

    def with_read_options(self, **options: Any) -> PixelLabelDatastore:
        """A copy reading the same files with other reading options (the keywords of
        :data:`~pixelseg.data.label_reading.LABEL_READ_OPTIONS`; the others keep their values).

        Raises:
            ConfigurationError: an unknown option or a bad value, or a datastore with a
                ``read_fn`` (it reads the files itself, so the options would not apply).
        """
        if self._read_fn is not None and options:
            raise ConfigurationError(
                f"the label options {sorted(options)} do not apply: these labels are read by their layout's own reader"
            )
        unknown = sorted(set(options) - set(LABEL_READ_OPTIONS))
        if unknown:
            raise ConfigurationError(f"unknown label reading option(s) {unknown}; options: {', '.join(LABEL_READ_OPTIONS)}")
        reader = LabelReader(**{**self.reader.options(), **options})
        reader.checked(self.class_set)
        new = self._with_files(list(self._file_list))
        new._unsorted = self._unsorted
        new.reader = reader
        new._snaps = SnapLog()
        new._watch = VoidWatch(len(self._file_list))
        return new

    def _with_files(self, files: list[str]):
        """A datastore of ``files`` (a subset, a partition's split): it watches its own first
        files, unless this one has already decided (then it warns no second time)."""
        new = super()._with_files(files)
        if not self._watch.done:
            new._watch = VoidWatch(len(files))
        return new

    def _read_settings(self) -> dict[str, Any]:
        return {**super()._read_settings(), "class_set": self.class_set, "reading options": self.reader.options()}

    @property
    def tolerance(self) -> int:
        """The snapping tolerance (0: exact)."""
        return self.reader.tolerance

    @property
    def allow_jpeg(self) -> bool:
        """Whether JPEG label files are read."""
        return self.reader.allow_jpeg

    def read_raw(self, i: int) -> np.ndarray:
        """The raw stored values of label file i (see :func:`~pixelseg.data.io.read_label_raw`;
        palette files as the ``palette`` option says)."""
        path = self._file(i)
        if self._read_fn is not None:
            return np.asarray(self._read_fn(path))
        return self.reader.read_values(path, self.class_set)[0]

    def read_with_raw(self, i: int, snaps: SnapLog | None = None, watch: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(class indices, raw values) of label file i; ``snaps`` collects the snapping
        (default: the datastore's own log, which warns once); ``watch=False`` leaves the
        file out of the void check."""
        path = self._file(i)
        if self._read_fn is not None:
            values, alpha = np.asarray(self._read_fn(path)), None
        else:
            values, alpha = self.reader.read_values(path, self.class_set)
        own = snaps is None
        log = self._snaps if own else snaps
        labels = self.reader.encode(values, alpha, self.class_set, path, log)
        if own and log.pixels and not log.warned:
            log.warned = True
            warnings.warn(
                f"{path}: {log.summary(self.tolerance)}. This datastore warns once; snap_summary() gives the "
                "totals so far (count_each_label warns once with the totals of all files)",
                LabelSnapWarning, stacklevel=3)
        if watch:
            self._watch.observe(labels, values, path, self.class_set)
        return labels, values

    def read(self, i: int) -> np.ndarray:
        """Label file i as H x W uint8 class indices (void 255)."""
        return self.read_with_raw(i)[0]

    def snap_summary(self) -> str:
        """What ``tolerance`` snapped in the files read so far in this process (shared with
        subsets): pixels per class and value, and the number of files; "" when nothing."""
        return self._snaps.summary(self.tolerance) if self._snaps.pixels else ""


def _as_class_set(class_set: Any, label_ids: Any, void_ids: Any) -> ClassSet:
    if isinstance(class_set, ClassSet):
        if label_ids is not None or tuple(void_ids):
            raise ConfigurationError("label_ids/void_ids are only used with a list of class names, not a ClassSet")
        return class_set
    if isinstance(class_set, (str, os.PathLike)):
        return ClassSet.load(class_set)
    if isinstance(class_set, Sequence):
        return ClassSet(list(class_set), label_ids, void_ids=void_ids)
    raise ConfigurationError(
        f"class_set must be a ClassSet, a class set file or a list of names, got {type(class_set).__name__}"
    )
