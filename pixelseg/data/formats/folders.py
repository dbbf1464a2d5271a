"""Folder layouts paired by relative path: nested groups, masks beside their images, and
file-name suffixes (with a second label file per image, such as a region mask).

Every layout here is one call of :func:`read_folders` with these options (the keys of the
YAML ``data:`` block, next to ``root`` and ``layout``):

``image_dir``, ``label_dir``
    the image and label folders, relative to ``root`` (``"."``: root itself). In the
    ``nested`` layout, the folder names looked for inside every group.
``image_suffix``, ``label_suffix``
    removed from the file stems before pairing (``21_training.tif`` pairs with
    ``21_manual1.gif`` with ``image_suffix: _training``, ``label_suffix: _manual1``).
``image_ext``, ``label_ext``
    file extensions (``".jpg"`` or a list); needed when images and labels share a folder
    and no suffix tells them apart (default: every image extension, and ``.png``).
``region_dir``, ``region_suffix``
    a second file per image (a field-of-view or region mask), paired the same way; read
    back with ``ds.extra_files("region")``. Default: none.

Files are paired by their path relative to their folder, without the extension and the
suffix, so ``a/x.jpg`` pairs with ``a/x.png`` and never with ``b/x.png``: the same file
names may appear in several subfolders or groups.

Layouts (the ``layout`` key):

``nested``
    ``root/<group>/<image_dir>/*`` with ``root/<group>/<label_dir>/*`` for every group
    folder (at any depth) holding both folders (defaults ``images`` and ``masks``). The
    pair name is ``<group>/<name>``. When every group's first folder is ``train``,
    ``val``, ``validation`` or ``test``, those are the splits.
``beside``
    images and masks in one folder (``image_dir`` = ``label_dir`` = ``"."``):
    ``NAME.jpg`` + ``NAME.png`` (told apart by ``image_ext`` / ``label_ext``) or
    ``NAME.png`` + ``NAME_mask.png`` (by ``label_suffix``).
``suffix``
    ``image_dir`` and ``label_dir`` (and ``region_dir``) whose file names carry suffixes
    (DRIVE: ``images/21_training.tif``, ``1st_manual/21_manual1.gif``,
    ``mask/21_training_mask.gif``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import attach_files, pair_by_keys, relative_keys
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.files import list_files, natural_sorted
from pixelseg.data.io import IMAGE_EXTENSIONS, LABEL_EXTENSIONS
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["FOLDER_OPTIONS", "SPLIT_NAMES", "find_groups", "read_folders", "resolve_class_set"]

#: The option names of :func:`read_folders` (the keys of the YAML ``data:`` block).
FOLDER_OPTIONS = ("image_dir", "label_dir", "image_suffix", "label_suffix", "image_ext", "label_ext",
                  "region_dir", "region_suffix")  # fmt: skip
#: Group folder names read as splits by the ``nested`` layout.
SPLIT_NAMES = ("train", "val", "validation", "test")


def resolve_class_set(root: Path, class_set: ClassSet | str | os.PathLike | None, *folders: Path) -> ClassSet:
    """``class_set`` (a ClassSet or a class file), else the class file found in root or
    ``folders`` (``classes.json`` / ``.yaml`` / ``.yml`` / ``.txt``).

    Raises:
        DataError: none given and none found.
    """
    from pixelseg.data.formats.generic import CLASS_FILES, find_class_file

    if isinstance(class_set, ClassSet):
        return class_set
    if class_set is None:
        class_set = find_class_file(root, *folders)
        if class_set is None:
            raise DataError(f"{root}: no {' / '.join(CLASS_FILES)} found; pass the class definitions (--classes)")
    return ClassSet.load(Path(class_set))


def _extensions(value: str | Sequence[str] | None, default: Sequence[str]) -> tuple[str, ...]:
    if value is None:
        return tuple(default)
    values = [value] if isinstance(value, str) else list(value)
    return tuple(v.lower() if v.startswith(".") else "." + v.lower() for v in values)


def _select(folder: Path, extensions: tuple[str, ...], suffix: str, exclude: set[str], what: str) -> list[str]:
    """Files below ``folder`` with the extensions and (if given) the stem suffix, minus ``exclude``."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such {what} folder")
    try:
        files = list_files(folder, True, extensions, (), what)
    except DataError:  # nothing with these extensions
        return []
    return [f for f in files if f not in exclude and (not suffix or Path(f).stem.endswith(suffix))]


def find_groups(root: Path, image_dir: str, label_dir: str, max_depth: int = 64) -> list[Path]:
    """Folders below root (root included, ``max_depth`` levels at most) that hold both
    ``image_dir`` and ``label_dir``, in natural order."""
    found = []
    depth0 = len(root.parts)
    for here, dirs, _ in os.walk(root):
        dirs[:] = natural_sorted(d for d in dirs if not d.startswith("."))
        if image_dir in dirs and label_dir in dirs:
            found.append(Path(here))
            dirs[:] = [d for d in dirs if d not in (image_dir, label_dir)]
        if len(Path(here).parts) - depth0 >= max_depth:
            dirs[:] = []
    return found


def _collect(
    root: Path, image_dir: str, label_dir: str, options: dict, group: Path | None
) -> tuple[list[str], list[str], list[str], list[str], list[str], list[str]]:
    """(images, image keys, labels, label keys, regions, region keys) of one folder pair."""
    base = group if group is not None else root
    prefix = "" if group is None or group == root else group.relative_to(root).as_posix() + "/"
    image_folder, label_folder = (base / image_dir).resolve(), (base / label_dir).resolve()
    label_ext = _extensions(options.get("label_ext"), (".png",) if image_folder == label_folder else LABEL_EXTENSIONS)
    regions: list[str] = []
    if options.get("region_dir"):
        region_folder = (base / options["region_dir"]).resolve()
        regions = _select(region_folder, LABEL_EXTENSIONS, options.get("region_suffix", ""), set(), "region")
    labels = _select(label_folder, label_ext, options.get("label_suffix", ""), set(regions), "label")
    image_ext = _extensions(options.get("image_ext"), IMAGE_EXTENSIONS)
    images = _select(image_folder, image_ext, options.get("image_suffix", ""), set(regions) | set(labels), "image")

    def keys(files, folder, suffix):
        return [prefix + k for k in relative_keys(files, folder, suffix)]

    region_keys = keys(regions, (base / options["region_dir"]).resolve(), options.get("region_suffix", "")) if regions else []
    return (images, keys(images, image_folder, options.get("image_suffix", "")), labels,
            keys(labels, label_folder, options.get("label_suffix", "")), regions, region_keys)  # fmt: skip


def read_folders(
    root: str | os.PathLike,
    class_set: ClassSet | str | os.PathLike | None = None,
    unpaired: str = "error",
    *,
    groups: bool = False,
    image_dir: str = "images",
    label_dir: str = "labels",
    image_suffix: str = "",
    label_suffix: str = "",
    image_ext: str | Sequence[str] | None = None,
    label_ext: str | Sequence[str] | None = None,
    region_dir: str | None = None,
    region_suffix: str = "",
) -> dict[str, PairedDatastore]:
    """Read image and label folders paired by relative path (see the module doc for each option).

    Args:
        root: the dataset folder.
        class_set: a ClassSet or class file; default the class file in root or the label folder.
        unpaired: as for :func:`~pixelseg.data.combine`.
        groups: the ``nested`` layout: pair ``image_dir`` and ``label_dir`` inside every
            group folder below root.

    Returns:
        ``{"all": PairedDatastore}``, or one per split (``nested`` with split groups).
        Region files, when asked for, are ``ds.extra_files("region")``.

    Raises:
        DataError: missing folders, no class file, unpaired files (by default), a pair
        without its region file. ConfigurationError: images and labels cannot be told apart.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder")
    options = {"image_suffix": image_suffix, "label_suffix": label_suffix, "image_ext": image_ext,
               "label_ext": label_ext, "region_dir": region_dir, "region_suffix": region_suffix}  # fmt: skip
    same = (root / image_dir).resolve() == (root / label_dir).resolve()
    if same and not (label_suffix or image_suffix) and set(_extensions(image_ext, IMAGE_EXTENSIONS)) & set(
        _extensions(label_ext, (".png",))
    ):
        raise ConfigurationError(
            f"{root}: images and labels share a folder: give a label_suffix (NAME_mask.png) or image_ext "
            "different from label_ext (NAME.jpg + NAME.png)"
        )
    folders = find_groups(root, image_dir, label_dir) if groups else [None]
    if not folders:
        raise DataError(f"{root}: no group folder holds both {image_dir}/ and {label_dir}/")
    parts = [_collect(root, image_dir, label_dir, options, g) for g in folders]
    class_set = resolve_class_set(root, class_set, root / label_dir)
    by_split: dict[str, list] = {}
    split_groups = groups and all(
        g != root and g.relative_to(root).parts[0] in SPLIT_NAMES for g in folders  # type: ignore[union-attr]
    )
    for group, part in zip(folders, parts, strict=True):
        name = group.relative_to(root).parts[0] if split_groups else "all"  # type: ignore[union-attr]
        by_split.setdefault(name, []).append(part)
    how = (f"pairing by path below {'each group' + chr(39) + 's ' if groups else ''}{image_dir}/ and {label_dir}/ "
           f"with image_suffix={image_suffix!r}, label_suffix={label_suffix!r}")  # fmt: skip
    out = {}
    for name, chunks in by_split.items():
        images, image_keys, labels, label_keys, regions, region_keys = ([x for c in chunks for x in c[k]] for k in range(6))
        if not images or not labels:
            raise DataError(f"{root}: no {'image' if not images else 'label'} files found ({how})")
        ds = pair_by_keys(ImageDatastore(images), PixelLabelDatastore(labels, class_set), image_keys, label_keys,
                          unpaired, how)  # fmt: skip
        if region_dir:
            ds = attach_files(ds, "region", regions, region_keys, f"region files in {region_dir}/ with suffix {region_suffix!r}")
        out[name] = ds
    return out
