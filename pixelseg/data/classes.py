"""Class definitions: names, the raw label IDs each class is stored as, colours, void IDs.

A :class:`ClassSet` answers MATLAB's ``classes`` + ``pixelLabelIDs`` pair (see the MATLAB
documentation of ``pixelLabelDatastore``): each class is stored in label files as one or
several raw values, either grey values (any integer, 16-bit and negative values included)
or RGB triplets. :meth:`ClassSet.encode` maps a raw label array onto class indices
``0..K-1`` with :data:`~pixelseg.conventions.VOID` (255) for void pixels, exactly (see
:mod:`pixelseg.data.encoding`). The work is done in small modules: :mod:`~pixelseg.data.ids`
(ID values), :mod:`~pixelseg.data.encoding`, :mod:`~pixelseg.data.palettes` and
:mod:`~pixelseg.data.class_files`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.conventions import MAX_CLASSES, VOID
from pixelseg.data.class_files import class_set_dict, load_class_file, parse_class_dict, save_class_file
from pixelseg.data.encoding import LabelEncoder
from pixelseg.data.ids import normalise_entry, normalise_id
from pixelseg.data.palettes import default_colors, palette_table, parse_color
from pixelseg.errors import ConfigurationError

__all__ = ["ClassSet"]


def _check_names(names: list[str]) -> None:
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


def _check_ids_unique(names: list[str], ids: list[tuple[Any, ...]], void_ids: tuple[Any, ...]) -> None:
    owner: dict[Any, str] = {}
    for name, class_ids in zip(names, ids, strict=True):
        for v in class_ids:
            if v in owner:
                raise ConfigurationError(f"ClassSet: label id {v} is given to both {owner[v]!r} and {name!r}")
            owner[v] = name
    for v in void_ids:
        if v in owner:
            raise ConfigurationError(f"ClassSet: void id {v} is also the label id of {owner[v]!r}")


def _colors_array(colors: Any, k: int) -> np.ndarray:
    """``colors`` as given (None: the defaults) -> a read-only k x 3 uint8 array."""
    if colors is None:
        out = default_colors(k)
    else:
        colors = list(colors) if not isinstance(colors, np.ndarray) else colors
        if len(colors) != k:
            raise ConfigurationError(f"ClassSet: {len(colors)} colors for {k} classes")
        out = np.array([parse_color(c, f"colors[{i}]") for i, c in enumerate(colors)], dtype=np.uint8).reshape(k, 3)
    out.setflags(write=False)
    return out


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
        void_ids: raw values read as :data:`~pixelseg.conventions.VOID` (e.g. ``(255,)``
            for VOC, ``(11,)`` for SegNet's CamVid, ``((0, 0, 0),)`` for black-unlabelled
            colour masks).

    Raises:
        ConfigurationError: more than 255 classes, duplicate names, an ID used twice, an
            ID that is also a void ID, mixed grey/RGB IDs, bad colours.

    Equality is by value.

    Examples:
        Grey label IDs (class i stored as value i) with 255 as void:

        >>> import numpy as np
        >>> from pixelseg import ClassSet
        >>> classes = ClassSet(["sky", "road", "car"], void_ids=[255])
        >>> classes.num_classes, classes.index("road")
        (3, 1)
        >>> classes.encode(np.array([[0, 2], [255, 1]], np.uint8))
        array([[  0,   2],
               [255,   1]], dtype=uint8)

        RGB label files, black meaning void:

        >>> rgb = ClassSet(["sky", "road"], label_ids=[(128, 128, 128), (128, 64, 128)], void_ids=[(0, 0, 0)])
        >>> rgb.id_type
        'rgb'
        >>> rgb.encode(np.array([[[128, 128, 128], [128, 64, 128], [0, 0, 0]]], np.uint8))
        array([[  0,   1, 255]], dtype=uint8)
    """

    def __init__(
        self,
        names: Sequence[str],
        label_ids: Sequence[Any] | None = None,
        colors: Any = None,
        void_ids: Iterable[Any] = (),
    ) -> None:
        names = [str(n) for n in names]
        _check_names(names)
        k = len(names)
        self._names = names
        if label_ids is None:
            label_ids = list(range(k))
        label_ids = list(label_ids)
        if len(label_ids) != k:
            raise ConfigurationError(
                f"ClassSet: {len(label_ids)} label_ids for {k} names; give one entry per class"
            )
        per_class = [normalise_entry(entry, f"label_ids[{i}] ({names[i]!r})") for i, entry in enumerate(label_ids)]
        void_list = [normalise_id(v, "void_ids") for v in void_ids]
        kinds = {type(v) for ids in per_class for v in ids} | {type(v) for v in void_list}
        if len(kinds) > 1:
            raise ConfigurationError(
                "ClassSet: label_ids and void_ids mix grey values and RGB triplets; use one kind"
            )
        self._rgb = kinds == {tuple}
        self._ids: list[tuple[Any, ...]] = [tuple(ids) for ids in per_class]
        self._void_ids: tuple[Any, ...] = tuple(dict.fromkeys(void_list))
        _check_ids_unique(names, self._ids, self._void_ids)
        self._colors = _colors_array(colors, k)
        self._encoder: LabelEncoder | None = None

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

    def same_names(self, other: "ClassSet | None") -> bool:
        """True when ``other`` has these class names in this order (label IDs, void and colours may
        differ: a network trained on one encoding of the classes predicts them for another)."""
        return other is not None and list(other.names) == self._names

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
        state["_encoder"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        state.pop("_lookup_cache", None)  # pickled before the encoder had its own module
        self.__dict__.update(state)
        self._encoder = None
        self._colors.setflags(write=False)

    # ------------------------------------------------------------------ palettes
    def palette(self) -> list[int]:
        """768 ints for a Pillow "P"-mode PNG: entry i = colour of class i, 255 (void) black."""
        return palette_table(self._colors).reshape(-1).astype(int).tolist()

    def colorize(self, labels: np.ndarray) -> np.ndarray:
        """H x W uint8 class indices -> H x W x 3 uint8 colours (void black)."""
        return palette_table(self._colors)[np.asarray(labels, dtype=np.uint8)]

    # ------------------------------------------------------------------ encoding
    def encode(self, raw: np.ndarray, source: str = "<array>", tolerance: int = 0, snaps=None) -> np.ndarray:
        """Map a raw label array onto class indices.

        Args:
            raw: H x W integer array of grey IDs (any integer dtype; 16-bit and negative
                values allowed), or H x W x 3 (or x 4, alpha ignored here: file readers make
                alpha-0 pixels void) colour mask for RGB
                class sets. A grey class set also accepts an H x W x 3 array with R = G = B.
            source: what to name in errors (usually the file path).
            tolerance: 0 (default) = exact matching. t in 1..32 snaps a raw value that
                matches no ID onto the nearest declared ID within t (largest per-channel
                difference for colours, absolute difference for grey values) when every
                other class is at least twice as far (:mod:`pixelseg.data.snapping`), and
                issues a :class:`~pixelseg.data.encoding.LabelSnapWarning` listing what was
                snapped and how many pixels.
            snaps: a :class:`~pixelseg.data.snapping.SnapLog` that records the snapping
                instead of the warning (datastores warn once per dataset with it).

        Returns:
            H x W uint8 class indices 0..K-1, :data:`~pixelseg.conventions.VOID` (255) for
            void IDs.

        Raises:
            DataError: raw values that map to no class and no void ID (all listed with
                their pixel counts, with ``source``), wrong shape or dtype, a value nearly
                as close to two classes when snapping.
            ConfigurationError: a tolerance that is not an int 0..32.
        """
        if self._encoder is None:
            self._encoder = LabelEncoder(self._names, self._ids, self._void_ids, self._rgb)
        return self._encoder.encode(raw, source, tolerance, snaps)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON/YAML-ready dict (one record per class); inverse of :meth:`from_dict`."""
        return class_set_dict(self)

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
        return cls(*parse_class_dict(d))

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the class set as JSON (``.json``) or YAML (``.yaml``/``.yml``), atomically.

        Raises:
            FileExistsError: the file exists and ``overwrite`` is False.
            ConfigurationError: another suffix.
        """
        return save_class_file(path, self.to_dict(), overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> ClassSet:
        """Read a class set written by :meth:`save` (or any form :meth:`from_dict` accepts).

        ``.json``, ``.yaml``/``.yml``; a ``.txt`` file is read as one class name per line.

        Raises:
            FileNotFoundError: no such file. DataError: the file does not parse.
        """
        return load_class_file(path, cls.from_dict)
