"""Reproducible train/validation/test splits, and split lists as text files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.text import read_utf8

__all__ = ["partition", "split_counts", "write_split", "read_split"]


def split_counts(n: int, fractions_or_counts: Sequence[float | int]) -> list[int]:
    """Number of items in each part.

    All ints: counts (their sum may be below n; the rest is left out). Otherwise fractions
    in [0, 1] summing to at most 1: ``floor(f * n)`` each, then the items left by
    rounding go one by one to the parts with the largest remainders (ties: earlier part
    first), so that fractions summing to 1 use every item.

    Raises:
        ConfigurationError: negative values, counts above n, fractions summing above 1.
    """
    values = list(fractions_or_counts)
    if not values:
        raise ConfigurationError("partition: give at least one fraction or count")
    if any(isinstance(v, bool) for v in values):
        raise ConfigurationError(f"partition: fractions_or_counts must be numbers, got {values}")
    if all(isinstance(v, (int, np.integer)) for v in values):
        if any(v < 0 for v in values) or sum(values) > n:
            raise ConfigurationError(f"partition: counts {values} must be >= 0 and sum to at most {n} (the number of items)")
        return [int(v) for v in values]
    fractions = np.asarray(values, dtype=np.float64)
    if np.any(fractions < 0) or np.any(~np.isfinite(fractions)) or fractions.sum() > 1 + 1e-9:
        raise ConfigurationError(f"partition: fractions {values} must be >= 0 and sum to at most 1")
    exact = fractions * n
    counts = np.floor(exact + 1e-9).astype(np.int64)
    target = int(round(min(fractions.sum(), 1.0) * n + 1e-9))
    remainder = exact - counts
    order = np.argsort(-remainder, kind="stable")
    for i in order[: max(0, target - int(counts.sum()))]:
        counts[i] += 1
    return counts.tolist()


def _presence(ds: Any) -> np.ndarray:
    from pixelseg.data.statistics import label_counts_per_image

    counts, _, _ = label_counts_per_image(ds)
    return counts > 0


def _stratified(presence: np.ndarray, counts: list[int], order: np.ndarray) -> list[list[int]]:
    """Greedy stratification by class presence (rarest class first).

    Items are visited rarest-class first (ties in the seeded random order); each goes to the
    part, not yet full, whose holding of the item's rarest class lies furthest below its
    share ``count_p / sum(counts)`` of that class.
    """
    n, k = presence.shape
    total_images_per_class = presence.sum(axis=0)
    rarity = np.where(presence, total_images_per_class[None, :], np.iinfo(np.int64).max)
    rarest = rarity.argmin(axis=1)
    rarest_count = rarity.min(axis=1)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    visit = np.lexsort((rank, rarest_count))
    share = np.asarray(counts, dtype=np.float64) / max(1, sum(counts))
    held = np.zeros((len(counts), k), dtype=np.float64)
    parts: list[list[int]] = [[] for _ in counts]
    for item in visit:
        open_parts = [p for p in range(len(counts)) if len(parts[p]) < counts[p]]
        if not open_parts:
            break
        c = rarest[item]
        expected = share * total_images_per_class[c]
        deficit = [(expected[p] - held[p, c]) / max(share[p], 1e-12) for p in open_parts]
        best = open_parts[int(np.argmax(deficit))]
        parts[best].append(int(item))
        held[best] += presence[item]
    return parts


def partition(
    ds: Any,
    fractions_or_counts: Sequence[float | int] = (0.6, 0.2, 0.2),
    seed: int = 0,
    stratify: str | None = None,
) -> tuple:
    """Split a datastore into disjoint parts (MATLAB ``splitEachLabel`` / ``subset``).

    Args:
        ds: ImageDatastore, PixelLabelDatastore or PairedDatastore (anything with ``len``
            and ``subset``).
        fractions_or_counts: fractions (summing to at most 1) or item counts per part; see
            :func:`split_counts`. Default (0.6, 0.2, 0.2).
        seed: int seed of numpy's ``Generator(PCG64(seed))``; the split depends only on the
            seed and the datastore's order (the same on every machine and numpy version
            that keeps PCG64's stream, which numpy guarantees).
        stratify: None (random), or ``"classes"`` (labelled datastores only; reads every
            label once): images holding rare classes are spread over the parts in
            proportion to the part sizes, so that every part sees every class where
            possible.

    Returns:
        A tuple of datastores of the same type as ``ds``, one per part; each part keeps the
        datastore's order.

    Raises:
        ConfigurationError: bad fractions/counts, unknown stratify, stratify on images only.

    Examples:
        >>> import tempfile
        >>> import numpy as np
        >>> from PIL import Image
        >>> from pixelseg import ImageDatastore, partition
        >>> tmp = tempfile.TemporaryDirectory()
        >>> for i in range(10):
        ...     Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(f"{tmp.name}/img_{i}.png")
        >>> train, val, test = partition(ImageDatastore(tmp.name), (0.6, 0.2, 0.2), seed=0)
        >>> len(train), len(val), len(test)
        (6, 2, 2)
        >>> sorted(set(train.names) | set(val.names) | set(test.names)) == sorted(f"img_{i}" for i in range(10))
        True
        >>> partition(ImageDatastore(tmp.name), (0.6, 0.2, 0.2), seed=0)[1].names == val.names
        True
        >>> tmp.cleanup()
    """
    if stratify not in (None, "classes"):
        raise ConfigurationError(f"partition: stratify must be None or 'classes', got {stratify!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ConfigurationError(f"partition: seed must be an int, got {seed!r}")
    n = len(ds)
    counts = split_counts(n, fractions_or_counts)
    order = np.random.Generator(np.random.PCG64(int(seed))).permutation(n)
    if stratify is None:
        bounds = np.cumsum([0] + counts)
        parts = [order[bounds[p] : bounds[p + 1]] for p in range(len(counts))]
    else:
        try:
            presence = _presence(ds)
        except ConfigurationError:
            raise ConfigurationError(
                f"partition: stratify='classes' needs labels (a PixelLabelDatastore or PairedDatastore), got {type(ds).__name__}"
            ) from None
        parts = _stratified(presence, counts, order)
    return tuple(ds.subset(np.sort(np.asarray(p, dtype=np.int64))) for p in parts)


def write_split(ds: Any, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write the names of a datastore's items, one per line (the Pascal VOC ImageSets
    format: file stems, pair names for a PairedDatastore), atomically.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    from pixelseg.utils.atomic import atomic_write

    names = ds.names
    with atomic_write(path, overwrite=overwrite) as tmp:
        tmp.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return Path(path)


def read_split(ds: Any, path: str | os.PathLike) -> Any:
    """The subset of ``ds`` named in a split list (one name per line, as written by
    :func:`write_split` or found in VOC ``ImageSets/Segmentation/*.txt``), in the list's
    order. Blank lines and lines starting with ``#`` are skipped.

    Raises:
        FileNotFoundError: no such file. DataError: names not in ``ds`` (listed), or
        names that ``ds`` holds twice.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"split list {path} does not exist")
    wanted = [
        line.strip().split()[0]
        for line in read_utf8(path).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    names = ds.names
    index: dict[str, int] = {}
    twice = set()
    for i, name in enumerate(names):
        if name in index:
            twice.add(name)
        index[name] = i
    missing = [w for w in wanted if w not in index]
    if missing:
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        raise DataError(f"{path}: {len(missing)} name(s) are not in the datastore: {shown}")
    ambiguous = sorted(twice.intersection(wanted))
    if ambiguous:
        raise DataError(f"{path}: names {ambiguous[:20]} match several files of the datastore")
    return ds.subset([index[w] for w in wanted])
