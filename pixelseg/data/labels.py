"""Class definitions: names, the raw label IDs each class is stored as, colours, void IDs.

A :class:`ClassSet` answers MATLAB's ``classes`` + ``pixelLabelIDs`` pair (see the MATLAB
documentation of ``pixelLabelDatastore``): each class is stored in label files as one or
several raw values, either grey values (any integer, 16-bit and negative values included)
or RGB triplets. :meth:`ClassSet.encode` maps a raw label array onto class indices
``0..K-1`` with :data:`VOID` (255) for void pixels, exactly: a raw value that is neither a
class ID nor a void ID is a :class:`~pixelseg.errors.DataError` naming the file, the values
and their pixel counts (never a silent assignment).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.conventions import MAX_CLASSES, VOID
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["VOID", "MAX_CLASSES", "ClassSet", "LabelSnapWarning", "voc_colormap"]


_UNMAPPED = -1
_MAX_LISTED = 20


class LabelSnapWarning(UserWarning):
    """Issued when ``encode(..., tolerance=t)`` snapped near-miss raw values onto a class."""


def voc_colormap(n: int = 256) -> np.ndarray:
    """The Pascal VOC colour map (bit-interleaved), as an n x 3 uint8 array.

    Source: the VOC development kit (``VOClabelcolormap.m``). Entry 1 is (128, 0, 0),
    entry 15 (192, 128, 128), entry 16 (0, 64, 0).
    """
    out = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out[i] = (r, g, b)
    return out


def _default_colors(k: int) -> np.ndarray:
    # VOC colours shifted by one so that no class is black (black is void in palettes).
    return voc_colormap(k + 1)[1:]


def _parse_color(value: Any, what: str) -> tuple[int, int, int]:
    if isinstance(value, str):
        text = value.strip().lstrip("#")
        if len(text) != 6:
            raise ConfigurationError(f"{what}: colour {value!r} is not '#rrggbb'")
        try:
            return tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            raise ConfigurationError(f"{what}: colour {value!r} is not '#rrggbb'") from None
    try:
        triplet = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{what}: {value!r} is not an RGB triplet") from None
    if len(triplet) != 3 or any(not 0 <= v <= 255 for v in triplet):
        raise ConfigurationError(f"{what}: {value!r} is not an RGB triplet of 0..255")
    return triplet  # type: ignore[return-value]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _format_value(key: int, rgb: bool) -> str:
    if rgb:
        return str(((key >> 16) & 255, (key >> 8) & 255, key & 255))
    return str(key)


class ClassSet:
    """Class names, raw label IDs, display colours and void IDs of a segmentation dataset.

    Args:
        names: class names, free text (spaces allowed), unique. At most 255 classes.
        label_ids: one entry per class: an int (grey value), a tuple of 3 ints (an RGB
            triplet), or a list of them (several raw values map to the class, as MATLAB's
            ``pixelLabelIDs`` allows). A *list* of ints means several grey IDs; a *tuple*
            of 3 ints means one RGB colour. Default: class i is stored as grey value i.
            All IDs are grey or all are RGB (``id_type``).
        colors: K x 3 display colours (uint8-able). Default: distinct colours (the VOC
            colour map shifted by one, so no class is black).
        void_ids: raw values read as :data:`VOID` (e.g. ``(255,)`` for VOC, ``(11,)`` for
            SegNet's CamVid, ``((0, 0, 0),)`` for black-unlabelled colour masks).

    Raises:
        ConfigurationError: more than 255 classes, duplicate names, an ID used twice, an
            ID that is also a void ID, mixed grey/RGB IDs, bad colours.

    Equality is by value.
    """

    def __init__(
        self,
        names: Sequence[str],
        label_ids: Sequence[Any] | None = None,
        colors: Any = None,
        void_ids: Iterable[Any] = (),
    ) -> None:
        names = [str(n) for n in names]
        k = len(names)
        if k == 0:
            raise ConfigurationError("ClassSet: names is empty; give at least one class name")
        if k > MAX_CLASSES:
            raise ConfigurationError(
                f"ClassSet: {k} classes given; at most {MAX_CLASSES} are supported "
                f"(label maps are uint8 with {VOID} reserved for void)"
            )
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigurationError(f"ClassSet: duplicate class names {dupes}")
        self._names = names
        if label_ids is None:
            label_ids = list(range(k))
        label_ids = list(label_ids)
        if len(label_ids) != k:
            raise ConfigurationError(
                f"ClassSet: {len(label_ids)} label_ids for {k} names; give one entry per class"
            )
        per_class = [self._normalise_entry(entry, f"label_ids[{i}] ({names[i]!r})") for i, entry in enumerate(label_ids)]
        void_list = [self._normalise_id(v, "void_ids") for v in void_ids]
        kinds = {type(v) for ids in per_class for v in ids} | {type(v) for v in void_list}
        if len(kinds) > 1:
            raise ConfigurationError(
                "ClassSet: label_ids and void_ids mix grey values and RGB triplets; use one kind"
            )
        self._rgb = kinds == {tuple}
        self._ids: list[tuple[Any, ...]] = [tuple(ids) for ids in per_class]
        self._void_ids: tuple[Any, ...] = tuple(dict.fromkeys(void_list))
        owner: dict[Any, str] = {}
        for name, ids in zip(names, self._ids, strict=True):
            for v in ids:
                if v in owner:
                    raise ConfigurationError(
                        f"ClassSet: label id {v} is given to both {owner[v]!r} and {name!r}"
                    )
                owner[v] = name
        for v in self._void_ids:
            if v in owner:
                raise ConfigurationError(f"ClassSet: void id {v} is also the label id of {owner[v]!r}")
        if colors is None:
            self._colors = _default_colors(k)
        else:
            colors = list(colors) if not isinstance(colors, np.ndarray) else colors
            if len(colors) != k:
                raise ConfigurationError(f"ClassSet: {len(colors)} colors for {k} classes")
            self._colors = np.array(
                [_parse_color(c, f"colors[{i}]") for i, c in enumerate(colors)], dtype=np.uint8
            ).reshape(k, 3)
        self._colors.setflags(write=False)
        self._lookup_cache: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _normalise_id(value: Any, what: str) -> int | tuple[int, int, int]:
        if _is_int(value):
            return int(value)
        if isinstance(value, str) and value.startswith("#"):
            return _parse_color(value, what)
        if isinstance(value, (tuple, np.ndarray)):
            return _parse_color(value, what)
        raise ConfigurationError(
            f"ClassSet: {what} holds {value!r}; expected an int grey value or an RGB tuple"
        )

    @classmethod
    def _normalise_entry(cls, entry: Any, what: str) -> list[int | tuple[int, int, int]]:
        if isinstance(entry, list):
            if not entry:
                raise ConfigurationError(f"ClassSet: {what} is an empty list")
            return [cls._normalise_id(v, what) for v in entry]
        return [cls._normalise_id(entry, what)]

    # ------------------------------------------------------------------ properties
    @property
    def names(self) -> list[str]:
        """Class names, index i = class i."""
        return list(self._names)

    @property
    def num_classes(self) -> int:
        """Number of classes K (void not counted)."""
        return len(self._names)

    @property
    def colors(self) -> np.ndarray:
        """K x 3 uint8 display colours (read-only array)."""
        return self._colors

    @property
    def label_ids(self) -> list[list[Any]]:
        """Raw IDs per class: lists of ints (grey) or of (r, g, b) tuples."""
        return [list(ids) for ids in self._ids]

    @property
    def void_ids(self) -> list[Any]:
        """Raw values read as void."""
        return list(self._void_ids)

    @property
    def id_type(self) -> str:
        """``"grey"`` (integer raw values) or ``"rgb"`` (colour-coded masks)."""
        return "rgb" if self._rgb else "grey"

    def index(self, name: str) -> int:
        """Class index of ``name``; ConfigurationError naming the known classes if absent."""
        try:
            return self._names.index(name)
        except ValueError:
            raise ConfigurationError(f"no class named {name!r}; classes are {self._names}") from None

    def __len__(self) -> int:
        return self.num_classes

    def __repr__(self) -> str:
        return (
            f"ClassSet(names={self._names!r}, label_ids={self.label_ids!r}, "
            f"void_ids={list(self._void_ids)!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClassSet):
            return NotImplemented
        return (
            self._names == other._names
            and self._ids == other._ids
            and set(self._void_ids) == set(other._void_ids)
            and np.array_equal(self._colors, other._colors)
        )

    def __hash__(self) -> int:
        return hash((tuple(self._names), tuple(self._ids), frozenset(self._void_ids)))

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_lookup_cache"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._colors.setflags(write=False)

    # ------------------------------------------------------------------ palettes
    def palette(self) -> list[int]:
        """768 ints for a Pillow "P"-mode PNG: entry i = colour of class i, 255 (void) black."""
        pal = np.zeros((256, 3), dtype=np.uint8)
        pal[: self.num_classes] = self._colors
        pal[VOID] = 0
        return pal.reshape(-1).astype(int).tolist()

    def colorize(self, labels: np.ndarray) -> np.ndarray:
        """H x W uint8 class indices -> H x W x 3 uint8 colours (void black)."""
        lut = np.array(self.palette(), dtype=np.uint8).reshape(256, 3)
        return lut[np.asarray(labels, dtype=np.uint8)]

    # ------------------------------------------------------------------ encoding
    def _keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted int64 keys of every raw id and the class index (or VOID) each maps to."""
        if self._lookup_cache is None:
            keys, values = [], []
            for index, ids in enumerate(self._ids):
                for v in ids:
                    keys.append(self._key(v))
                    values.append(index)
            for v in self._void_ids:
                keys.append(self._key(v))
                values.append(VOID)
            order = np.argsort(keys)
            self._lookup_cache = (
                np.asarray(keys, dtype=np.int64)[order],
                np.asarray(values, dtype=np.uint8)[order],
            )
        return self._lookup_cache

    @staticmethod
    def _key(v: Any) -> int:
        if isinstance(v, tuple):
            return (v[0] << 16) | (v[1] << 8) | v[2]
        return int(v)

    def _raw_keys(self, raw: np.ndarray, source: str) -> np.ndarray:
        """The raw label array as an H x W array of integer keys comparable with _keys()."""
        if raw.dtype.kind == "b":
            raw = raw.astype(np.uint8)
        if raw.dtype.kind == "f":
            if not np.all(np.isfinite(raw)) or not np.array_equal(raw, np.round(raw)):
                raise DataError(
                    f"{source}: label values are floating point and not all whole numbers; "
                    "label files must hold integer IDs"
                )
            raw = raw.astype(np.int64)
        if raw.dtype.kind not in "iu":
            raise DataError(f"{source}: label array has dtype {raw.dtype}; expected integers")
        if raw.ndim == 3 and raw.shape[2] == 1:
            raw = raw[:, :, 0]
        if self._rgb:
            if raw.ndim != 3 or raw.shape[2] not in (3, 4):
                raise DataError(
                    f"{source}: label array of shape {raw.shape} has no colour channels, but the "
                    "class set declares RGB label ids"
                )
            rgb = raw[:, :, :3]
            if rgb.min(initial=0) < 0 or rgb.max(initial=0) > 255:
                raise DataError(f"{source}: colour mask values outside 0..255")
            rgb = rgb.astype(np.int64)
            return (rgb[:, :, 0] << 16) | (rgb[:, :, 1] << 8) | rgb[:, :, 2]
        if raw.ndim == 3 and raw.shape[2] in (3, 4):
            grey = raw[:, :, 0]
            if not (np.array_equal(grey, raw[:, :, 1]) and np.array_equal(grey, raw[:, :, 2])):
                raise DataError(
                    f"{source}: the label file holds colours (R, G, B differ), but the class set "
                    "declares grey label ids; declare RGB triplets as label_ids"
                )
            raw = grey
        if raw.ndim != 2:
            raise DataError(f"{source}: label array has shape {raw.shape}; expected H x W")
        return raw

    def encode(self, raw: np.ndarray, source: str = "<array>", tolerance: int = 0) -> np.ndarray:
        """Map a raw label array onto class indices.

        Args:
            raw: H x W integer array of grey IDs (any integer dtype; 16-bit and negative
                values allowed), or H x W x 3 (or x 4, alpha ignored) colour mask for RGB
                class sets. A grey class set also accepts an H x W x 3 array with R = G = B.
            source: what to name in errors (usually the file path).
            tolerance: 0 (default) = exact matching. t > 0 snaps a raw value that matches
                no ID onto the nearest declared ID within t (largest per-channel difference
                for colours, absolute difference for grey values) and issues a
                :class:`LabelSnapWarning` listing what was snapped and how many pixels.

        Returns:
            H x W uint8 class indices 0..K-1, :data:`VOID` (255) for void IDs.

        Raises:
            DataError: raw values that map to no class and no void ID (all listed with
                their pixel counts, with ``source``), wrong shape or dtype, ties when
                snapping.
        """
        raw = np.asarray(raw)
        keys = self._raw_keys(raw, source)
        known, values = self._keys()
        if keys.dtype == np.uint8 or keys.dtype == np.uint16:
            lut = np.full(256 if keys.dtype == np.uint8 else 65536, _UNMAPPED, dtype=np.int16)
            inside = known[(known >= 0) & (known < lut.size)]
            lut[inside] = values[np.searchsorted(known, inside)]
            out = lut[keys]
        else:
            keys = keys.astype(np.int64, copy=False)
            pos = np.clip(np.searchsorted(known, keys), 0, len(known) - 1)
            out = np.where(known[pos] == keys, values[pos].astype(np.int16), np.int16(_UNMAPPED))
        bad = out == _UNMAPPED
        if bad.any():
            bad_keys, counts = np.unique(keys[bad], return_counts=True)
            if tolerance > 0:
                out = self._snap(out, keys, bad_keys, counts, tolerance, source)
            else:
                raise DataError(self._unmapped_message(bad_keys, counts, source))
        return out.astype(np.uint8)

    def _unmapped_message(self, bad_keys: np.ndarray, counts: np.ndarray, source: str) -> str:
        order = np.argsort(-counts, kind="stable")
        listed = ", ".join(
            f"{_format_value(int(bad_keys[i]), self._rgb)}: {int(counts[i])} pixels"
            for i in order[:_MAX_LISTED]
        )
        more = f" and {len(order) - _MAX_LISTED} more values" if len(order) > _MAX_LISTED else ""
        declared = ", ".join(
            f"{n}={ids[0] if len(ids) == 1 else list(ids)}" for n, ids in zip(self._names, self._ids, strict=True)
        )
        void = f"; void ids {list(self._void_ids)}" if self._void_ids else "; no void ids"
        return (
            f"{source}: {len(order)} label value(s) map to no class and no void id: {listed}{more} "
            f"(declared ids: {declared}{void}). Declare them in the ClassSet (label_ids or "
            "void_ids), or pass tolerance=... to snap near-miss values"
        )

    def _snap(self, out, keys, bad_keys, counts, tolerance, source):
        known, values = self._keys()
        if self._rgb:
            known_rgb = np.stack([(known >> 16) & 255, (known >> 8) & 255, known & 255], axis=1)
        report, unsnapped, unsnapped_counts = [], [], []
        for key, count in zip(bad_keys.tolist(), counts.tolist(), strict=True):
            if self._rgb:
                value = np.array([(key >> 16) & 255, (key >> 8) & 255, key & 255])
                dist = np.abs(known_rgb - value).max(axis=1)
            else:
                dist = np.abs(known - key)
            best = dist.min()
            winners = np.flatnonzero(dist == best)
            if best > tolerance:
                unsnapped.append(key)
                unsnapped_counts.append(count)
                continue
            if len({int(values[w]) for w in winners}) > 1:
                raise DataError(
                    f"{source}: label value {_format_value(key, self._rgb)} ({count} pixels) is "
                    f"equally close to several ids within tolerance {tolerance}; cannot snap it"
                )
            target = int(values[winners[0]])
            out[keys == key] = target
            name = "void" if target == VOID else repr(self._names[target])
            report.append(
                f"{_format_value(key, self._rgb)} -> {_format_value(int(known[winners[0]]), self._rgb)} "
                f"({name}): {count} pixels"
            )
        if unsnapped:
            raise DataError(
                self._unmapped_message(np.array(unsnapped), np.array(unsnapped_counts), source)
                + f" (none within tolerance {tolerance})"
            )
        total = int(sum(c for k, c in zip(bad_keys.tolist(), counts.tolist(), strict=True) if k not in unsnapped))
        warnings.warn(
            f"{source}: snapped {total} pixels within tolerance {tolerance}: " + "; ".join(report),
            LabelSnapWarning,
            stacklevel=3,
        )
        return out

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON/YAML-ready dict (one record per class); inverse of :meth:`from_dict`."""

        def plain(v: Any) -> Any:
            return list(v) if isinstance(v, tuple) else v

        return {
            "id_type": self.id_type,
            "classes": [
                {
                    "name": name,
                    "ids": [plain(v) for v in ids],
                    "color": [int(c) for c in color],
                }
                for name, ids, color in zip(self._names, self._ids, self._colors, strict=True)
            ],
            "void_ids": [plain(v) for v in self._void_ids],
        }

    @classmethod
    def from_dict(cls, d: Any) -> ClassSet:
        """Build a ClassSet from a dict.

        Accepted forms:
          * ``{"classes": [{"name": ..., "ids": [...] | "id": ..., "color": [r, g, b]
            | "#rrggbb"}, ...], "void_ids": [...], "id_type": "grey" | "rgb"}`` (written
            by :meth:`to_dict`);
          * ``{"names": [...], "label_ids": [...], "colors": [...], "void_ids": [...],
            "id_type": ...}``;
          * a plain list of class names (ids 0..K-1).

        In files, RGB triplets are lists of 3 ints; ``id_type: rgb`` says so (it is inferred
        when an id is a nested list or a '#rrggbb' string).

        Raises:
            ConfigurationError: a malformed dict, naming the offending entry.
        """
        if isinstance(d, list):
            d = {"names": d}
        if not isinstance(d, dict):
            raise ConfigurationError(f"class set must be a mapping or a list of names, got {type(d).__name__}")
        if "classes" in d:
            records = d["classes"]
            if not isinstance(records, list):
                raise ConfigurationError("class set: 'classes' must be a list")
            names, ids, colors = [], [], []
            for i, rec in enumerate(records):
                if isinstance(rec, str):
                    rec = {"name": rec}
                if not isinstance(rec, dict) or "name" not in rec:
                    raise ConfigurationError(f"class set: classes[{i}] needs a 'name', got {rec!r}")
                names.append(rec["name"])
                ids.append(rec.get("ids", rec.get("id", i)))
                colors.append(rec.get("color"))
            if any(c is None for c in colors):
                colors = None if all(c is None for c in colors) else [
                    c if c is not None else _default_colors(len(names))[i] for i, c in enumerate(colors)
                ]
        elif "names" in d:
            names = list(d["names"])
            ids = d.get("label_ids")
            colors = d.get("colors")
        else:
            raise ConfigurationError("class set: expected a 'classes' or a 'names' entry")
        void_ids = list(d.get("void_ids", []) or [])
        id_type = d.get("id_type")
        if id_type is None:
            flat = [x for e in (ids or []) for x in (e if isinstance(e, list) else [e])] + void_ids
            rgb = any(isinstance(x, (list, tuple)) or (isinstance(x, str) and x.startswith("#")) for x in flat)
            id_type = "rgb" if rgb else "grey"
        if id_type not in ("grey", "rgb"):
            raise ConfigurationError(f"class set: id_type must be 'grey' or 'rgb', got {id_type!r}")

        def as_rgb(v: Any) -> Any:
            return tuple(v) if isinstance(v, (list, tuple)) else v

        if ids is not None:
            if id_type == "rgb":
                entries = []
                for e in ids:
                    if isinstance(e, list) and e and all(_is_int(x) for x in e) and len(e) == 3:
                        entries.append(tuple(e))  # one triplet
                    elif isinstance(e, list):
                        entries.append([as_rgb(x) for x in e])
                    else:
                        entries.append(as_rgb(e))
                ids = entries
            else:
                ids = [list(e) if isinstance(e, (list, tuple)) else e for e in ids]
                ids = [e[0] if isinstance(e, list) and len(e) == 1 else e for e in ids]
        if id_type == "rgb":
            void_ids = [as_rgb(v) for v in void_ids]
        return cls(names, ids, colors, void_ids)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the class set as JSON (``.json``) or YAML (``.yaml``/``.yml``), atomically.

        Raises:
            FileExistsError: the file exists and ``overwrite`` is False.
            ConfigurationError: another suffix.
        """
        from pixelseg.utils.atomic import atomic_write

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            text = json.dumps(self.to_dict(), indent=2) + "\n"
        elif suffix in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)
        else:
            raise ConfigurationError(f"ClassSet.save: {path} must end in .json, .yaml or .yml")
        with atomic_write(path, overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ClassSet:
        """Read a class set written by :meth:`save` (or any form :meth:`from_dict` accepts).

        ``.json``, ``.yaml``/``.yml``; a ``.txt`` file is read as one class name per line.

        Raises:
            FileNotFoundError: no such file. DataError: the file does not parse.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"class set file {path} does not exist")
        text = path.read_text(encoding="utf-8")
        suffix = path.suffix.lower()
        try:
            if suffix == ".json":
                data = json.loads(text)
            elif suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text)
            elif suffix == ".txt":
                data = [line.strip() for line in text.splitlines() if line.strip()]
            else:
                raise DataError(f"{path}: a class set file must be .json, .yaml, .yml or .txt")
        except DataError:
            raise
        except Exception as exc:  # json.JSONDecodeError, yaml.YAMLError
            raise DataError(f"{path}: cannot parse the class set: {exc}") from None
        try:
            return cls.from_dict(data)
        except ConfigurationError as exc:
            raise DataError(f"{path}: {exc}") from None
