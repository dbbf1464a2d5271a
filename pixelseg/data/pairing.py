"""Pairing images with labels by file name (never by list position), as a torch Dataset."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pixelseg.data.classes import ClassSet
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.files import check_names_unique, natural_sorted, select_indices
from pixelseg.data.regions import per_item_regions, read_region_mask, void_outside
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["PairedDatastore", "combine", "pair_by_keys", "relative_keys", "attach_files", "to_tensors", "UnpairedFilesWarning"]

_MAX_LISTED = 20


class UnpairedFilesWarning(UserWarning):
    """Issued by ``combine(..., unpaired="warn")`` for images or labels left without a partner."""


def _keys(paths: list[str], suffix: str, prefix: str = "") -> list[str]:
    """Pair names: file stems without ``suffix`` and ``prefix`` (one pass, no per-file function call)."""
    sep = os.sep
    stems = [p.rpartition(sep)[2] for p in paths]
    stems = [s.rpartition(".")[0] or s for s in stems]
    if suffix:
        n = len(suffix)
        stems = [s[:-n] if s.endswith(suffix) else s for s in stems]
    if prefix:
        stems = [s.removeprefix(prefix) for s in stems]
    return stems


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def to_tensors(image: Any, label: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(H x W x C image, H x W label) numpy -> (C x H x W float32 in [0, 1], H x W int64).

    uint8 images are divided by 255, uint16 by 65535; float images are passed unchanged.
    Tensors are returned as they are.
    """
    if not isinstance(image, torch.Tensor):
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[:, :, None]
        scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(image.dtype, 1.0)
        image = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).to(torch.float32)
        if scale != 1.0:
            image = image.div_(scale)
    if not isinstance(label, torch.Tensor):
        label = torch.from_numpy(np.asarray(label).astype(np.int64))
    return image, label


class PairedDatastore(torch.utils.data.Dataset):
    """Images paired with their label maps; a torch Dataset (built by :func:`combine`).

    ``ds[i]`` -> ``(image H x W x 3 uint8, label H x W uint8)`` (void 255), then each
    transform in order; after :meth:`as_tensors`, ``(image 3 x H x W float32 in [0, 1],
    label H x W int64)``. Holds file names only, so it pickles cheaply into DataLoader
    worker processes.

    With regions (:meth:`with_regions`), label pixels outside each pair's region mask are
    read as void.

    Raises (on read): DataError when image and label sizes differ, naming both files and
    both sizes (or a region mask of another size); the readers' errors otherwise.
    """

    def __init__(
        self,
        images: ImageDatastore,
        labels: PixelLabelDatastore,
        transforms: Sequence[Callable] = (),
        names: Sequence[str] | None = None,
    ) -> None:
        if len(images) != len(labels):
            raise DataError(f"{len(images)} images but {len(labels)} label files; use combine() to pair them")
        self.images = images
        self.labels = labels
        self._transforms = tuple(transforms)
        self._names = list(names) if names is not None else images.names
        self._extras: dict[str, list[str]] = {}
        self._regions: list[str | None] | None = None

    # ------------------------------------------------------------------ basics
    @property
    def class_set(self) -> ClassSet:
        """The labels' :class:`ClassSet`."""
        return self.labels.class_set

    @property
    def pair_names(self) -> list[str]:
        """The name of each pair (the image stem without its suffix)."""
        return list(self._names)

    @property
    def names(self) -> list[str]:
        """Same as :attr:`pair_names`."""
        return list(self._names)

    @property
    def extra_names(self) -> list[str]:
        """Names of the extra files paired with each image (e.g. ``["region"]``), see :func:`attach_files`."""
        return list(self._extras)

    def extra_files(self, name: str) -> list[Path]:
        """The extra files called ``name`` (one per pair, in pair order), e.g. the region
        masks of a suffix layout. Raises KeyError naming the extras there are."""
        if name not in self._extras:
            raise KeyError(f"no extra files {name!r} in this datastore (it has {self.extra_names})")
        return [Path(f) for f in self._extras[name]]

    @property
    def transforms(self) -> tuple[Callable, ...]:
        return self._transforms

    # ------------------------------------------------------------------ regions
    def with_regions(self, regions: str | os.PathLike | Sequence[str | os.PathLike | None] | None) -> PairedDatastore:
        """A copy whose labels are void outside each pair's region of interest (MATLAB's
        ``roi``): training ignores those pixels (the loss leaves void out) and
        :func:`~pixelseg.data.count_each_label` counts inside only.

        Args:
            regions: where the region masks are (:mod:`pixelseg.data.regions`: any nonzero
                pixel is inside):

                - ``"region"`` (or another name of :attr:`extra_names`): the extra files of
                  that name, e.g. the region masks a ``suffix`` layout found (``region_dir``);
                - one mask file for every pair (a path);
                - a list of paths, one per pair in pair order (None: no region for that pair);
                - None: no regions (every pixel counts).

        Returns:
            A new PairedDatastore; subsets and shuffles keep each pair's region.

        Raises:
            ConfigurationError: a list of another length than the datastore's.
            FileNotFoundError: a mask file that does not exist (the column's files are
                checked when read).
        """
        if regions is None:
            files = None
        elif isinstance(regions, str) and regions in self._extras:
            files = list(self._extras[regions])
        else:
            items = per_item_regions(regions, len(self), "with_regions")
            if not isinstance(items, list):
                if not isinstance(items, (str, os.PathLike)):
                    raise ConfigurationError(f"with_regions: expected an extra-file name {self.extra_names}, a mask "
                                             f"file or a list of them, got {type(regions).__name__}")
                items = [items] * len(self)
            files = [None if f is None else os.fspath(f) for f in items]
            for f in dict.fromkeys(f for f in files if f is not None):
                if not os.path.isfile(f):
                    extras = f" (this datastore's extra files: {self.extra_names})" if isinstance(regions, str) else ""
                    raise FileNotFoundError(f"region mask {f} does not exist{extras}")
        new = self._derive(self.images, self.labels, self._transforms, self._names)
        new._regions = files
        return new

    @property
    def region_files(self) -> list[Path | None] | None:
        """The region mask of each pair (None for a pair without one), or None without regions."""
        return None if self._regions is None else [None if f is None else Path(f) for f in self._regions]

    def region_mask(self, i: int, shape: Sequence[int] | None = None):
        """Pair i's region as H x W bool (True inside), or None without one.

        Raises:
            DataError: the mask is not of ``shape`` (naming the file and both sizes).
        """
        if self._regions is None or self._regions[i] is None:
            return None
        return read_region_mask(self._regions[i], shape)

    def __len__(self) -> int:
        return len(self.images)

    def read(self, i: int) -> tuple[Any, Any]:
        """Pair i: read, size-checked, transformed."""
        image = self.images.read(i)
        label = self.labels.read(i)
        if image.shape[:2] != label.shape[:2]:
            raise DataError(
                f"image {self.images._file(i)} is {image.shape[0]} x {image.shape[1]} (H x W) but its "
                f"label {self.labels._file(i)} is {label.shape[0]} x {label.shape[1]}; they must match"
            )
        label = void_outside(label, self.region_mask(i, label.shape[:2]))
        for fn in self._transforms:
            image, label = fn(image, label)
        return image, label

    def __getitem__(self, i: int) -> tuple[Any, Any]:
        return self.read(i)

    def __iter__(self):
        for i in range(len(self)):
            yield self.read(i)

    def __repr__(self) -> str:
        return f"PairedDatastore({len(self)} pairs, {self.class_set.num_classes} classes, {len(self._transforms)} transforms)"

    # ------------------------------------------------------------------ derived datastores
    def _derive(self, images, labels, transforms, names) -> PairedDatastore:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.images, new.labels, new._transforms, new._names = images, labels, tuple(transforms), list(names)
        return new

    def subset(self, indices: Any) -> PairedDatastore:
        """A new PairedDatastore with the pairs at ``indices`` (ints, mask or slice), same transforms."""
        idx = select_indices(indices, len(self), "PairedDatastore")
        new = self._derive(
            self.images.subset(idx), self.labels.subset(idx), self._transforms, [self._names[i] for i in idx]
        )
        new._extras = {k: [v[i] for i in idx] for k, v in self._extras.items()}
        new._regions = None if self._regions is None else [self._regions[i] for i in idx]
        return new

    def shuffle(self, seed: int | None = 0) -> PairedDatastore:
        """A new PairedDatastore in a random order, reproducible for an int seed (PCG64)."""
        rng = np.random.Generator(np.random.PCG64(seed))
        return self.subset(rng.permutation(len(self)))

    def transform(self, fn: Callable[[Any, Any], tuple[Any, Any]]) -> PairedDatastore:
        """A new PairedDatastore applying ``fn(image, label) -> (image, label)`` after the
        existing steps (MATLAB ``transform``). ``fn`` must be picklable (a module-level
        function or a callable object) for DataLoader workers."""
        if not callable(fn):
            raise ConfigurationError(f"transform: {fn!r} is not callable")
        return self._derive(self.images, self.labels, self._transforms + (fn,), self._names)

    def as_tensors(self) -> PairedDatastore:
        """A new PairedDatastore yielding ``(image 3 x H x W float32 in [0, 1], label H x W
        int64, void 255)``; transforms added afterwards receive tensors."""
        return self.transform(to_tensors)

    # ------------------------------------------------------------------ checks
    def check_sizes(self) -> list[str]:
        """Compare every image's and label's (and region mask's) size from file headers (no
        pixel decoding).

        Returns:
            One message per mismatching (or unreadable) pair; empty when all match.
        """
        from pixelseg.data.io import image_size

        problems = []
        for i in range(len(self)):
            img_file, lbl_file = self.images._file(i), self.labels._file(i)
            try:
                a, b = image_size(img_file), image_size(lbl_file)
            except (DataError, FileNotFoundError) as exc:
                problems.append(str(exc))
                continue
            if a != b:
                problems.append(
                    f"image {img_file} is {a[0]} x {a[1]} (H x W) but its label {lbl_file} is {b[0]} x {b[1]}"
                )
            region = self._regions[i] if self._regions is not None else None
            if region is not None:
                try:
                    c = image_size(region)
                except (DataError, FileNotFoundError) as exc:
                    problems.append(str(exc))
                    continue
                if c != a:
                    problems.append(f"image {img_file} is {a[0]} x {a[1]} (H x W) but its region mask {region} is "
                                    f"{c[0]} x {c[1]}")
        return problems


def combine(
    imds: ImageDatastore,
    pxds: PixelLabelDatastore,
    label_suffix: str = "",
    image_suffix: str = "",
    unpaired: str = "error",
    match: str = "name",
    label_prefix: str = "",
) -> PairedDatastore:
    """Pair images with label files by file name (MATLAB ``combine(imds, pxds)``).

    A pair's name is the file stem without ``image_suffix`` (images) or ``label_suffix``
    (labels): CamVid's ``0001TP_006690.png`` pairs with ``0001TP_006690_L.png`` with
    ``label_suffix="_L"``; Cityscapes uses ``image_suffix="_leftImg8bit",
    label_suffix="_gtFine_labelIds"``. Pairs follow the image datastore's order (natural
    order when it was built from a folder: ``img_2`` before ``img_10``).

    Args:
        imds: the images. pxds: the label files.
        label_suffix, image_suffix: suffixes removed from the stems before matching.
        label_prefix: a prefix removed from the label stems before matching (``"pred_"``
            pairs the ``pred_<stem>.png`` files of ``semanticseg`` with their images).
        unpaired: ``"error"`` (default): images without a label or labels without an image
            raise DataError naming them; ``"warn"``: they are dropped with an
            :class:`UnpairedFilesWarning` naming them; ``"ignore"``: dropped silently.
        match: ``"name"`` (default) or ``"order"`` (pair by list position: only for
            datastores whose orders you built to correspond; counts must match).

    Returns:
        PairedDatastore.

    Raises:
        DataError: unpaired files (by default), two files with the same pair name.
        ConfigurationError: bad option values.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from PIL import Image
        >>> from pixelseg import ImageDatastore, PixelLabelDatastore, combine
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = Path(tmp.name)
        >>> for folder in ("images", "labels"):
        ...     (root / folder).mkdir()
        >>> for stem in ("img_10", "img_2"):
        ...     Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(root / "images" / f"{stem}.png")
        ...     Image.fromarray(np.ones((4, 6), np.uint8)).save(root / "labels" / f"{stem}_L.png")
        >>> ds = combine(ImageDatastore(root / "images"),
        ...              PixelLabelDatastore(root / "labels", ["background", "object"]), label_suffix="_L")
        >>> ds.names
        ['img_2', 'img_10']
        >>> image, labels = ds.read(0)
        >>> image.shape, image.dtype, labels.shape, labels.dtype
        ((4, 6, 3), dtype('uint8'), (4, 6), dtype('uint8'))
        >>> tmp.cleanup()
    """
    if unpaired not in ("error", "warn", "ignore"):
        raise ConfigurationError(f"unpaired must be 'error', 'warn' or 'ignore', got {unpaired!r}")
    if match not in ("name", "order"):
        raise ConfigurationError(f"match must be 'name' or 'order', got {match!r}")
    if not isinstance(pxds, PixelLabelDatastore):
        raise ConfigurationError(f"combine: the second argument must be a PixelLabelDatastore, got {type(pxds).__name__}")
    image_files = imds._files
    label_files = pxds._files if match == "order" else pxds._file_list  # order set by the images
    image_keys = _keys(image_files, image_suffix)
    if match == "order":
        if len(image_files) != len(label_files):
            raise DataError(f"combine(match='order'): {len(image_files)} images but {len(label_files)} label files")
        return PairedDatastore(imds, pxds, names=image_keys)
    label_keys = _keys(label_files, label_suffix, label_prefix)
    hint = (
        f"pairing by file stem with image_suffix={image_suffix!r}, label_suffix={label_suffix!r}"
        + (f", label_prefix={label_prefix!r}" if label_prefix else "")
    )
    return pair_by_keys(imds, pxds._with_files(label_files), image_keys, label_keys, unpaired, hint)


def attach_files(
    ds: PairedDatastore, name: str, files: Sequence[str], keys: Sequence[str], how: str = ""
) -> PairedDatastore:
    """``ds`` with one more file per pair, found by key (``keys[j]`` names ``files[j]``),
    kept aligned through ``subset`` and ``shuffle`` and read back with
    ``ds.extra_files(name)``: a second label file per image, such as a region mask.

    Raises:
        DataError: a pair without its file (all listed), or two files with the same key.
    """
    check_names_unique(list(keys), list(files), f"{name} files")
    index = dict(zip(keys, files, strict=True))
    missing = [n for n in ds.pair_names if n not in index]
    if missing:
        raise DataError(f"{len(missing)} image(s) without a {name} file: {_listing(missing)}" + (f" ({how})" if how else ""))
    new = ds._derive(ds.images, ds.labels, ds.transforms, ds.pair_names)
    new._extras = {**ds._extras, name: [str(index[n]) for n in ds.pair_names]}
    return new


def relative_keys(paths: Sequence[str], root: str | os.PathLike, suffix: str = "", drop: int = 0) -> list[str]:
    """Pair names from relative paths: ``root/a/b/x_mask.png`` -> ``"a/b/x"`` (``/``
    separators, no extension, ``suffix`` removed from the stem).

    drop: leading folders left out (``drop=1``: ``"b/x"``), e.g. a class folder.
    Raises DataError when a file is not below ``root``.
    """
    root = os.path.abspath(root)
    out = []
    for path in paths:
        rel = os.path.relpath(os.path.abspath(path), root)
        if rel.startswith(".."):
            raise DataError(f"{path} is not inside {root}")
        parts = rel.split(os.sep)[drop:]
        name = parts[-1]
        name = name.rpartition(".")[0] or name
        if suffix and name.endswith(suffix):
            name = name[: -len(suffix)]
        out.append("/".join(parts[:-1] + [name]))
    return out


def pair_by_keys(
    imds: ImageDatastore,
    pxds: PixelLabelDatastore,
    image_keys: Sequence[str],
    label_keys: Sequence[str],
    unpaired: str = "error",
    how: str = "pairing by the given names",
) -> PairedDatastore:
    """Pair image i with the label file whose key equals ``image_keys[i]`` (the engine of
    :func:`combine`; layouts that pair by relative path call it with their own keys).

    Args:
        image_keys, label_keys: one pair name per file, in each datastore's order.
        unpaired: as for :func:`combine`. how: how the keys were made, for error messages.

    Raises:
        DataError: unpaired files (by default), two files with the same key.
    """
    if unpaired not in ("error", "warn", "ignore"):
        raise ConfigurationError(f"unpaired must be 'error', 'warn' or 'ignore', got {unpaired!r}")
    image_files, label_files = imds._files, pxds._files
    image_keys, label_keys = list(image_keys), list(label_keys)
    check_names_unique(image_keys, image_files, "combine (images)")
    label_index = dict(zip(label_keys, range(len(label_keys)), strict=True))
    if len(label_index) != len(label_keys):
        check_names_unique(label_keys, label_files, "combine (labels)")
    img_idx, lbl_idx, no_label = [], [], []
    for i, key in enumerate(image_keys):
        j = label_index.pop(key, None)
        if j is None:
            no_label.append(image_files[i])
        else:
            img_idx.append(i)
            lbl_idx.append(j)
    no_image = natural_sorted(label_files[j] for j in label_index.values())
    if no_label or no_image:
        parts = []
        if no_label:
            parts.append(f"{len(no_label)} image(s) without a label: {_listing(no_label)}")
        if no_image:
            parts.append(f"{len(no_image)} label file(s) without an image: {_listing(no_image)}")
        message = "; ".join(parts) + f" ({how})"
        if unpaired == "error":
            raise DataError(message + "; pass unpaired='warn' or 'ignore' to drop them")
        if unpaired == "warn":
            warnings.warn(message + "; they were left out", UnpairedFilesWarning, stacklevel=3)
        if not img_idx:
            raise DataError("combine: no image has a label file; " + message)
    if len(img_idx) == len(image_files):  # every image paired: keep the image datastore as it is
        images, names = imds, image_keys
    else:
        images, names = imds._with_files([image_files[i] for i in img_idx]), [image_keys[i] for i in img_idx]
    return PairedDatastore(images, pxds._with_files([label_files[j] for j in lbl_idx]), names=names)
