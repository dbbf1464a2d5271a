"""Pairing images with label files by name: ``combine`` (MATLAB ``combine(imds, pxds)``), the
key engine ``pair_by_keys`` under every layout, and extra files per pair (``attach_files``)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.files import check_names_unique, natural_sorted
from pixelseg.data.pairing import PairedDatastore
from pixelseg.data.suffix_hint import suffix_hint
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["combine", "pair_by_keys", "relative_keys", "attach_files", "UnpairedFilesWarning"]

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
    img_idx, lbl_idx, no_label, no_label_keys = [], [], [], []
    for i, key in enumerate(image_keys):
        j = label_index.pop(key, None)
        if j is None:
            no_label.append(image_files[i])
            no_label_keys.append(key)
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
        hint = suffix_hint(label_keys, image_keys, [label_keys[j] for j in label_index.values()],
                           no_label_keys, "label_suffix", "image_suffix")
        message += f"; {hint}" if hint else ""
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
