"""The YAML ``data:`` block: one schema, read by ``pixelseg train``, ``evaluate``, ``info``
and ``predict``.

A dataset folder in a layout (``pixelseg info FOLDER`` prints this block for a folder)::

    data:
      root: data/drive              # the dataset folder; relative paths: relative to the YAML file
      layout: suffix                # a layout name (pixelseg.data.formats.layouts); null: detected
      image_dir: images             # the layout's options, flat (see each layout)
      label_dir: 1st_manual
      image_suffix: _training
      label_suffix: _manual1
      threshold: 128                # label reading options (below)

or explicit folders per split (``images`` may be left out where only labels are read, as
``pixelseg evaluate`` does)::

    data:
      train: {images: img/train, labels: lbl/train, label_suffix: _L}
      validation: {images: img/val, labels: lbl/val, label_suffix: _L}

Keys besides the layout's options:

====================  ======================================================================
``split``             ``[train, validation]`` fractions used when the data has no
                      validation split (seeded by ``options.seed``); default ``[0.8, 0.2]``
``train_splits``      the splits trained on, concatenated, e.g. ``[train, val]`` to retrain
                      on train + val once the settings were chosen on val (the published
                      CamVid protocol); default: the train split. Validation scores of
                      such a run are not held out, and the run says so
``image_size``        resize for training and inference, ``[H, W]`` or ``"HxW"``; null: native
``augment``           Augmenter preset for training (``default``, ``none``, ...)
``crop_size``         random training crops ``[h, w]``
``unpaired``          ``error`` (default), ``warn`` or ``ignore`` files without a partner
``regions``           regions of interest (field-of-view masks; label pixels outside are
                      void, left out of training, statistics, predictions and metrics):
                      left out (default): the region files the layout found
                      (``region_dir``), if any; ``false``: none; ``true``: the layout's,
                      required; a mask file: one mask for every image
``tolerance``, ``threshold``, ``palette``, ``alpha_void``, ``mat_variable``, ``allow_jpeg``
                      how label files are read: :mod:`pixelseg.data.label_reading`
====================  ======================================================================

Every key is checked at every depth: an unknown key is an error naming it and the nearest
valid key (``data.tolerence: unknown key (did you mean 'tolerance'?)``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pixelseg.data.classes import ClassSet
from pixelseg.data.datastores import PixelLabelDatastore
from pixelseg.data.formats.layouts import LAYOUTS, layout_options, open_layout
from pixelseg.data.label_reading import LABEL_READ_OPTIONS
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.schema import describe_validation_error
from pixelseg.utils.sizes import parse_size

__all__ = ["DataSpec", "FolderSpec", "OpenedData", "parse_data_spec", "open_data"]

#: The ways a split is named in layouts, in the order a validation split is looked for.
VALIDATION_SPLITS = ("val", "validation")


class FolderSpec(BaseModel):
    """One split given as folders (``data.train`` / ``data.validation`` / ``data.test``):
    images and labels paired by relative path without the suffixes (and extension);
    ``regions``: a folder of region masks paired the same way (``region_suffix``)."""

    model_config = ConfigDict(extra="forbid")
    images: Path | None = None
    labels: Path
    image_suffix: str = ""
    label_suffix: str = ""
    regions: Path | None = None
    region_suffix: str = ""

    def resolved(self, base: Path) -> FolderSpec:
        """A copy with relative folders made relative to ``base``."""
        update = {k: base / v for k in ("images", "labels", "regions") if (v := getattr(self, k)) is not None
                  and not v.is_absolute()}  # fmt: skip
        return self.model_copy(update=update)


class DataSpec(BaseModel):
    """The ``data:`` block (see the module docstring). The layout's options sit next to
    the other keys in the YAML and are kept in :attr:`layout_options`."""

    model_config = ConfigDict(extra="forbid")
    root: Path | None = None
    layout: str | None = None
    layout_options: dict[str, Any] = Field(default_factory=dict)
    train: FolderSpec | None = None
    validation: FolderSpec | None = None
    test: FolderSpec | None = None
    split: list[float] = Field(default_factory=lambda: [0.8, 0.2])
    train_splits: list[str] | None = None
    image_size: tuple[int, int] | None = None
    augment: str = "default"
    crop_size: tuple[int, int] | None = None
    unpaired: Literal["error", "warn", "ignore"] = "error"
    tolerance: int = Field(default=0, ge=0)
    threshold: float | None = None
    palette: Literal["auto", "indices", "colors", "grey"] = "auto"
    alpha_void: bool = True
    mat_variable: str | None = None
    allow_jpeg: bool = False
    regions: bool | Path | None = None

    @classmethod
    def extra_keys(cls) -> list[str]:
        """Names valid beside the fields: every layout's options (for error hints)."""
        return sorted({option for _, options in LAYOUTS.values() for option in options})

    @model_validator(mode="before")
    @classmethod
    def _gather_layout_options(cls, data: Any) -> Any:
        """Move the keys that are options of ``layout`` into ``layout_options``."""
        if not isinstance(data, dict) or not data.get("layout"):
            return data
        layout = data["layout"]
        # an unknown layout: data.layout says so (below); its would-be options are kept quiet
        valid = LAYOUTS[layout][1] if isinstance(layout, str) and layout in LAYOUTS else cls.extra_keys()
        data = dict(data)
        options = dict(data.get("layout_options") or {})
        for key in [k for k in data if k in valid and k not in cls.model_fields]:
            options[key] = data.pop(key)
        if "tolerance" in valid and "tolerance" in data:  # a layout option of the same name (cvat)
            options["tolerance"] = data.pop("tolerance")
        data["layout_options"] = options
        return data

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str | None) -> str | None:
        if value is not None:
            layout_options(value)  # ConfigurationError (a ValueError) naming the layouts
        return value

    @field_validator("regions", mode="before")
    @classmethod
    def _regions(cls, value: Any) -> bool | Path | None:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, (str, os.PathLike)) and str(value).strip():
            return Path(value)
        raise ValueError(f"regions must be true, false or a mask file, got {value!r}")

    @field_validator("image_size", "crop_size", mode="before")
    @classmethod
    def _size(cls, value: Any, info) -> tuple[int, int] | None:
        return parse_size(value, f"data.{info.field_name}")

    @model_validator(mode="after")
    def _check(self) -> DataSpec:
        if self.root is not None and (self.train or self.validation or self.test):
            raise ValueError("give either 'root' (a dataset folder) or 'train'/'validation'/'test' folders, not both")
        if self.layout is None and self.layout_options:
            raise ValueError("layout options need a 'layout'")
        for key in self.layout_options:
            if key not in layout_options(self.layout):
                raise ValueError(f"layout {self.layout!r} has no option {key!r}")
        if self.train_splits is not None and (not self.train_splits or len(set(self.train_splits)) != len(self.train_splits)):
            raise ValueError(f"train_splits must name one or more splits, each once, got {self.train_splits}")
        if len(self.split) != 2 or any(not 0 <= f <= 1 for f in self.split):
            raise ValueError(f"split must be two fractions [train, validation], got {self.split}")
        return self

    def read_options(self) -> dict[str, Any]:
        """The label reading options that differ from their defaults."""
        return {k: getattr(self, k) for k, default in LABEL_READ_OPTIONS.items() if getattr(self, k) != default}

    def resolved(self, base: Path) -> DataSpec:
        """A copy with relative paths made relative to ``base`` (the YAML file's folder)."""
        update: dict[str, Any] = {}
        if self.root is not None and not self.root.is_absolute():
            update["root"] = base / self.root
        if isinstance(self.regions, Path) and not self.regions.is_absolute():
            update["regions"] = base / self.regions
        for part in ("train", "validation", "test"):
            section = getattr(self, part)
            if section is not None:
                update[part] = section.resolved(base)
        return self.model_copy(update=update)


def parse_data_spec(raw: Any, source: str | os.PathLike = "") -> DataSpec:
    """The :class:`DataSpec` of a ``data:`` mapping.

    Raises:
        ConfigurationError: not a mapping, an unknown key at any depth (naming the nearest
            valid key), a bad value (naming the key and the value); the message starts with
            ``source`` (a file name) when given.
    """
    if isinstance(raw, DataSpec):
        return raw
    where = f"{source}: " if str(source) else ""
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where}data must be a mapping (root, layout, ...), got {raw!r}")
    try:
        return DataSpec(**raw)
    except ValidationError as exc:
        raise ConfigurationError(where + describe_validation_error(exc, DataSpec, "data.")) from None


@dataclass
class OpenedData:
    """What :func:`open_data` read: the layout name (``"folders"`` for explicit folders),
    the PairedDatastores by split (``"all"`` when the data has no splits) and the ClassSet."""

    layout: str
    splits: dict[str, PairedDatastore]
    class_set: ClassSet

    @property
    def validation(self) -> PairedDatastore | None:
        """The validation split, if the data has one."""
        return next((self.splits[s] for s in VALIDATION_SPLITS if s in self.splits), None)

    def split(self, name: str | None = None) -> PairedDatastore:
        """The split ``name``; None: ``test``, else the validation split, else ``all``.

        Raises:
            ConfigurationError: no such split (naming the ones there are).
        """
        if name is None:
            for candidate in ("test", *VALIDATION_SPLITS, "all"):
                if candidate in self.splits:
                    return self.splits[candidate]
            name = "test"
        if name == "validation" and "val" in self.splits:
            name = "val"
        if name not in self.splits:
            raise ConfigurationError(f"the data has no split {name!r}; splits: {', '.join(self.splits)}")
        return self.splits[name]

    def joined(self, names: Sequence[str]) -> PairedDatastore:
        """The splits ``names`` (as :meth:`split` finds them) concatenated in that order
        (:meth:`PairedDatastore.concatenate`).

        Raises:
            ConfigurationError: no such split; DataError: a pair name in two of them.
        """
        first, *rest = [self.split(name) for name in names]
        return first.concatenate(*rest)


def _with_read_options(ds: PairedDatastore, options: dict[str, Any]) -> PairedDatastore:
    labels = ds.labels
    if not options:
        return ds
    if not isinstance(labels, PixelLabelDatastore):
        raise ConfigurationError(f"the label options {sorted(options)} do not apply to these labels")
    return ds._derive(ds.images, labels.with_read_options(**options), ds.transforms, ds.pair_names)


def _with_regions(ds: PairedDatastore, regions: bool | Path | None, split: str) -> PairedDatastore:
    """``ds`` with the regions ``data.regions`` asks for (see the module docstring)."""
    if regions is False:
        return ds.with_regions(None)
    if isinstance(regions, Path):
        return ds.with_regions(regions)
    if "region" in ds.extra_names:
        return ds.with_regions("region")
    if regions is True:
        raise ConfigurationError(f"data.regions is true but split {split!r} has no region files; give region_dir "
                                 "and region_suffix (layout suffix), regions: in the split's folders, or a mask file")
    return ds


def _open_folders(spec: DataSpec, class_set: ClassSet) -> dict[str, PairedDatastore]:
    from pixelseg.data.formats.folders import read_folders

    out = {}
    for part in ("train", "validation", "test"):
        folders: FolderSpec | None = getattr(spec, part)
        if folders is None:
            continue
        if folders.images is None:
            raise ConfigurationError(f"data.{part}: 'images' is needed (only pixelseg evaluate reads labels alone)")
        regions = {"region_dir": str(folders.regions), "region_suffix": folders.region_suffix} if folders.regions else {}
        (ds,) = read_folders(Path(folders.labels).anchor or ".", class_set, spec.unpaired, image_dir=str(folders.images),
                             label_dir=str(folders.labels), image_suffix=folders.image_suffix,
                             label_suffix=folders.label_suffix, **regions).values()  # fmt: skip
        out["val" if part == "validation" else part] = ds
    return out


def open_data(spec: DataSpec | dict, class_set: ClassSet | str | os.PathLike | None = None) -> OpenedData:
    """Read the data a ``data:`` block describes.

    Args:
        spec: a DataSpec or the ``data:`` mapping (paths as they are: resolve them first).
        class_set: a ClassSet or class file; default the layout's own classes (or the
            class file it finds).

    Returns:
        :class:`OpenedData` (PairedDatastores by split, labels read with the block's
        reading options and void outside the regions ``data.regions`` names).

    Raises:
        DataError: a missing folder, an unknown layout of ``root``, unpaired files, no class set.
        ConfigurationError: bad keys or values; reading options for a layout whose labels
            are not files; ``regions: true`` without region files.
        FileNotFoundError: a ``regions`` mask file that does not exist.
    """
    from pixelseg.data.formats.detect import detect_layout

    spec = parse_data_spec(spec)
    if class_set is not None and not isinstance(class_set, ClassSet):
        class_set = ClassSet.load(Path(class_set))
    if spec.root is not None:
        if spec.layout is None:
            detected = detect_layout(spec.root)
            name, options, own = detected.name, detected.options, detected.class_set
        else:
            name, options, own = spec.layout, spec.layout_options, None
        splits = open_layout(spec.root, name, class_set or own, spec.unpaired, **options)
    elif spec.train or spec.validation or spec.test:
        if class_set is None:
            raise ConfigurationError("data given as folders needs the classes ('classes' in the config, or --classes)")
        name, splits = "folders", _open_folders(spec, class_set)
    else:
        raise ConfigurationError("data needs either 'root' (a dataset folder) or 'train' (images and labels folders)")
    if not splits:
        raise DataError(f"{spec.root}: the {name} layout found no data")
    options = spec.read_options()
    splits = {k: _with_regions(_with_read_options(v, options), spec.regions, k) for k, v in splits.items()}
    return OpenedData(name, splits, next(iter(splits.values())).class_set)
