"""Inspecting a dataset folder: layout, classes, sizes and every problem (``pixelseg info``).

Unlike reading for training, inspection never stops at the first bad file: every unpaired
file, unreadable file, stray label value and size mismatch is collected.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pixelseg.conventions import VOID
from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import UnpairedFilesWarning
from pixelseg.data.formats.detect import DetectedLayout, detect_layout
from pixelseg.data.io import image_size
from pixelseg.data.label_checks import LabelCheckWarning, void_label_problem
from pixelseg.data.pairing import PairedDatastore
from pixelseg.data.regions import void_outside
from pixelseg.data.snapping import SnapLog
from pixelseg.data.spec import DataSpec, open_data, parse_data_spec
from pixelseg.errors import DataError

__all__ = ["SplitReport", "DatasetReport", "inspect_dataset"]

_RAW_PLACEHOLDER = ClassSet(["<raw values>"])


@dataclass
class SplitReport:
    """Statistics of one split. table: per class (or per raw value when no class set is
    known) ``pixel_count`` and ``image_count``, inside the regions when there are region
    masks; sizes: Counter of (H, W); regions: the number of region masks (None: no
    regions); outside_pixels: the pixels outside them."""

    name: str
    pairs: int
    table: pd.DataFrame
    sizes: Counter
    void_pixels: int = 0
    regions: int | None = None
    outside_pixels: int = 0


@dataclass
class DatasetReport:
    layout: DetectedLayout
    class_set: ClassSet | None
    block: str = ""
    splits: list[SplitReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_text(self) -> str:
        """The report as printable text."""
        lines = [f"layout:        {self.layout.name} ({self.layout.root})", f"label format:  {self.layout.label_format}"]
        lines += [f"               {note}" for note in self.layout.notes]
        if self.class_set is None:
            lines.append("classes:       unknown (no class file); raw label values are listed. Pass --classes FILE")
        else:
            void = self.class_set.void_ids
            lines.append(f"classes:       {self.class_set.num_classes}" + (f", void ids {void}" if void else ", no void ids"))
        for split in self.splits:
            lines.append("")
            lines.append(f"split {split.name!r}: {split.pairs} image/label pairs")
            sizes = ", ".join(f"{h} x {w} ({n})" for (h, w), n in split.sizes.most_common(5))
            more = f" and {len(split.sizes) - 5} more sizes" if len(split.sizes) > 5 else ""
            lines.append(f"  image sizes (H x W): {sizes or 'none read'}{more}")
            if split.regions is not None:
                lines.append(f"  region masks: {split.regions} file(s); {split.outside_pixels} pixels outside them "
                             "are void (counted nowhere below; regions: false in the data block counts them)")
            if self.class_set is not None:
                lines.append(f"  void pixels: {split.void_pixels}" + (" (inside the regions)" if split.regions else ""))
            lines.append("  " + split.table.to_string(index=False).replace("\n", "\n  "))
        lines.append("")
        lines += [f"note: {n}" for n in self.notes]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  - {p}" for p in self.problems]
        else:
            lines.append("no problems found")
        lines += ["", "# the data block that reads this folder, to paste into train.yaml:", "", self.block or self.layout.data_block()]
        if self.class_set is None or self.layout.class_file is not None:
            where = self.layout.class_file or "FILE"
            lines.append(f"classes: {where}" + ("" if self.layout.class_file else "   # your class definitions"))
        return "\n".join(lines)


def _scan_split(
    name: str, ds: PairedDatastore, class_set: ClassSet | None, problems: list[str], notes: list[str]
) -> SplitReport:
    sizes: Counter = Counter()
    k = class_set.num_classes if class_set else 0
    pixels = np.zeros(k, dtype=np.int64)
    images = np.zeros(k, dtype=np.int64)
    raw_pixels: Counter = Counter()
    raw_images: Counter = Counter()
    void_pixels = outside = 0
    snaps = SnapLog()
    for i in range(len(ds)):
        image_file, label_file = ds.images.files[i], ds.labels.files[i]
        try:
            size = image_size(image_file)
            sizes[size] += 1
        except (DataError, FileNotFoundError) as exc:
            problems.append(str(exc))
            size = None
        try:
            if class_set is None:
                raw = ds.labels.read_raw(i)
            else:
                label, raw = ds.labels.read_with_raw(i, snaps=snaps, watch=False)
        except (DataError, FileNotFoundError) as exc:
            problems.append(str(exc))
            continue
        if size is not None and raw.shape[:2] != size:
            problems.append(
                f"image {image_file} is {size[0]} x {size[1]} (H x W) but its label {label_file} is "
                f"{raw.shape[0]} x {raw.shape[1]}"
            )
        try:
            region = ds.region_mask(i, raw.shape[:2])
        except (DataError, FileNotFoundError) as exc:
            problems.append(str(exc))
            continue
        if region is not None:
            outside += int(region.size - region.sum())
        if class_set is None:
            inside = raw if region is None else raw[region]
            flat = inside.reshape(-1, 3) if raw.ndim == 3 else inside.reshape(-1)
            values, counts = np.unique(flat, axis=0 if raw.ndim == 3 else None, return_counts=True)
            for v, c in zip(values.tolist(), counts.tolist(), strict=True):
                key = tuple(v) if isinstance(v, list) else v
                raw_pixels[key] += c
                raw_images[key] += 1
            continue
        hist = np.bincount(void_outside(label, region).reshape(-1), minlength=256)
        pixels += hist[:k]
        images += hist[:k] > 0
        void_pixels += int(hist[VOID]) - (int(region.size - region.sum()) if region is not None else 0)
    if snaps.pixels:
        notes.append(f"split {name!r}: {snaps.summary(ds.labels.tolerance)}")
    if class_set is None:
        keys = sorted(raw_pixels, key=lambda v: (isinstance(v, tuple), v))
        table = pd.DataFrame(
            {"raw_value": [str(v) for v in keys], "pixel_count": [raw_pixels[v] for v in keys],
             "image_count": [raw_images[v] for v in keys]}
        )  # fmt: skip
    else:
        table = pd.DataFrame({"name": class_set.names, "pixel_count": pixels, "image_count": images})
        absent = [n for n, c in zip(class_set.names, images, strict=True) if c == 0]
        if absent and len(ds):
            notes.append(f"split {name!r}: classes {absent} appear in no label file")
    regions = None if ds.region_files is None else sum(f is not None for f in ds.region_files)
    return SplitReport(name, len(ds), table, sizes, void_pixels, regions, outside)


def inspect_dataset(
    path: str | os.PathLike | None = None,
    class_set: ClassSet | str | os.PathLike | None = None,
    data: DataSpec | dict | None = None,
) -> DatasetReport:
    """Scan every image/label pair of a dataset (image sizes from headers, every label read
    once with the reading options), collecting every problem.

    Args:
        path: a dataset folder, its layout detected. class_set: a ClassSet or class file
            overriding the layout's.
        data: instead of ``path``, a ``data:`` block (:mod:`pixelseg.data.spec`), paths
            resolved: the report says what training with that block would read.

    Returns:
        DatasetReport (``.to_text()`` prints it; ``.problems`` lists the problems, among
        them a class that only void stands in for: :func:`~pixelseg.data.label_checks.void_label_problem`).

    Raises:
        FileNotFoundError / DataError: the folder is missing or its layout is unknown.
        ConfigurationError: a bad ``data`` block.
    """
    spec = parse_data_spec(data if data is not None else {"root": path})
    if class_set is not None and not isinstance(class_set, ClassSet):
        class_set = ClassSet.load(Path(class_set))
    if spec.root is not None:
        layout = detect_layout(spec.root) if spec.layout is None else _named_layout(spec)
    else:
        layout = DetectedLayout("folders", Path("."), "label files of the train/validation/test folders", None)
    class_set = class_set or layout.class_set
    report = DatasetReport(layout, class_set, block=_block(spec, layout))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnpairedFilesWarning)
        warnings.simplefilter("ignore", LabelCheckWarning)
        try:
            opened = open_data(spec.model_copy(update={"unpaired": "warn", "layout": layout.name if spec.root else None,
                                                       "layout_options": layout.options if spec.root else {}}),
                               class_set or _RAW_PLACEHOLDER)
            splits = opened.splits
        except (DataError, FileNotFoundError) as exc:
            report.problems.append(str(exc))
            splits = {}
    report.problems += [str(w.message) for w in caught if issubclass(w.category, UnpairedFilesWarning)]
    for name, ds in splits.items():
        report.splits.append(_scan_split(name, ds, class_set, report.problems, report.notes))
        if class_set is not None:
            try:
                problem = void_label_problem(ds.labels)
            except DataError:
                problem = None  # already listed by the scan
            if problem:
                report.problems.append(f"split {name!r}: {problem}")
    return report


def _named_layout(spec: DataSpec) -> DetectedLayout:
    """The layout a block names, with the class set detection finds when it agrees."""
    try:
        detected = detect_layout(spec.root)
    except (DataError, FileNotFoundError):
        detected = None
    if detected is not None and detected.name == spec.layout:
        return DetectedLayout(spec.layout, spec.root, detected.label_format, detected.class_set, detected.notes,
                              dict(spec.layout_options), detected.class_file)
    return DetectedLayout(spec.layout, spec.root, f"as the {spec.layout} layout reads it", None,
                          options=dict(spec.layout_options))


def _block(spec: DataSpec, layout: DetectedLayout) -> str:
    """The ``data:`` block that reads the folder: the detected one, with the reading options given."""
    import yaml

    if spec.root is None:
        config = spec.model_dump(mode="json", exclude_defaults=True)
    else:
        config = {**layout.data_config(), **spec.model_dump(mode="json", exclude_defaults=True,
                                                            exclude={"root", "layout", "layout_options"})}
    return yaml.safe_dump({"data": config}, sort_keys=False, allow_unicode=True).rstrip()
