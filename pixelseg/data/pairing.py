"""``PairedDatastore``: images with their labels (paired by file name in
:mod:`pixelseg.data.combining`), as a torch Dataset."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pixelseg.data.classes import ClassSet
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.files import check_names_unique, select_indices
from pixelseg.data.regions import per_item_regions, read_region_mask, void_outside
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["PairedDatastore", "to_tensors"]



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

    def concatenate(self, *others: PairedDatastore) -> PairedDatastore:
        """A new PairedDatastore of this datastore's pairs followed by those of each of
        ``others``, with the same transforms; extra files and region masks go with their pairs
        (a pair from a datastore without regions has none). For example
        ``opened.split("train").concatenate(opened.split("val"))`` retrains on train + val
        once the settings were chosen on val (``data.train_splits`` in a config).

        Raises:
            ConfigurationError: not a PairedDatastore, other transforms or extra files, or
                images or labels read otherwise (see ``ImageDatastore.concatenate``).
            DataError: a pair name in two of the datastores, naming both image files.
        """
        parts = (self, *others)
        for other in others:
            if not isinstance(other, PairedDatastore):
                raise ConfigurationError(f"concatenate: expected PairedDatastores, got {type(other).__name__}")
            if other._transforms != self._transforms:
                raise ConfigurationError(f"concatenate: the datastores have other transforms ({len(self._transforms)} "
                                         f"and {len(other._transforms)}); concatenate them before transforming")
            if sorted(other._extras) != sorted(self._extras):
                raise ConfigurationError(f"concatenate: the datastores have other extra files ({self.extra_names} "
                                         f"and {other.extra_names})")
        images = self.images.concatenate(*(o.images for o in others))
        labels = self.labels.concatenate(*(o.labels for o in others))
        names = [n for part in parts for n in part._names]
        check_names_unique(names, images._files, "concatenate")
        new = self._derive(images, labels, self._transforms, names)
        new._extras = {k: [f for part in parts for f in part._extras[k]] for k in self._extras}
        if any(part._regions is not None for part in parts):
            new._regions = [r for part in parts for r in (part._regions or [None] * len(part))]
        return new

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
