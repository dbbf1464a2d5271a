"""Class-set files: the dict schemas a class set is written in and read from, and the
``.json`` / ``.yaml`` / ``.yml`` / ``.txt`` files that hold them.

Three schemas are read (:func:`parse_class_dict`); :func:`class_set_dict` writes the first:

* records: ``{"classes": [{"name": ..., "ids": [...] | "id": ..., "color": [r, g, b] |
  "#rrggbb"}, ...], "void_ids": [...], "id_type": "grey" | "rgb"}``;
* columns: ``{"names": [...], "label_ids": [...], "colors": [...], "void_ids": [...],
  "id_type": ...}``;
* a plain list of class names (IDs 0..K-1); a ``.txt`` file is one name per line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pixelseg.data.ids import is_int
from pixelseg.data.palettes import default_colors
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.text import read_utf8

if TYPE_CHECKING:
    from pixelseg.data.classes import ClassSet

__all__ = ["class_set_dict", "parse_class_dict", "save_class_file", "load_class_file"]

T = TypeVar("T")


def class_set_dict(class_set: ClassSet) -> dict[str, Any]:
    """A JSON/YAML-ready dict in the records schema (one record per class, RGB triplets as
    lists of 3 ints); :func:`parse_class_dict` reads it back."""

    def plain(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return {
        "id_type": class_set.id_type,
        "classes": [
            {
                "name": name,
                "ids": [plain(v) for v in ids],
                "color": [int(c) for c in color],
            }
            for name, ids, color in zip(class_set.names, class_set.label_ids, class_set.colors, strict=True)
        ],
        "void_ids": [plain(v) for v in class_set.void_ids],
    }


#: The one schema of class-set dicts: the keys each form takes (any other key is refused).
RECORDS_KEYS = ("classes", "void_ids", "id_type")
COLUMNS_KEYS = ("names", "label_ids", "colors", "void_ids", "id_type")
RECORD_KEYS = ("name", "ids", "id", "color")
_LISTS = ("classes", "names", "label_ids", "colors", "void_ids")  # null allowed but for the first two


def _check_keys(d: dict, allowed: tuple[str, ...], where: str) -> None:
    """Refuse keys not in ``allowed``, naming the key and the nearest valid one."""
    import difflib

    for key in d:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigurationError(
            f"class set: unknown key {key!r} in {where}{hint}; the keys there are {', '.join(allowed)}"
        )


def _check_types(d: dict) -> None:
    """Refuse wrong types at the top level, naming the key: the list entries must be lists
    (``null`` allowed for the optional ones), ``id_type`` a string or null."""
    for key in _LISTS:
        if key not in d:
            continue
        value = d[key]
        if value is None and key not in ("classes", "names"):
            continue
        if not isinstance(value, list):
            example = " (e.g. [255])" if key == "void_ids" else ""
            raise ConfigurationError(
                f"class set: {key!r} must be a list{example}, got {value!r} ({type(value).__name__})"
            )
    if not isinstance(d.get("id_type"), (str, type(None))):
        raise ConfigurationError(f"class set: 'id_type' must be 'grey' or 'rgb', got {d['id_type']!r}")


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str):
        raise ConfigurationError(
            f"class set: {what} is {name!r} ({type(name).__name__}); class names are strings "
            "(quote it in YAML)"
        )
    return name


def _records(records: list[Any]) -> tuple[list[Any], list[Any], list[Any] | None]:
    """The records schema's ``classes`` list -> names, ids and colours (None: all default)."""
    names, ids, colors = [], [], []
    for i, rec in enumerate(records):
        if isinstance(rec, str):
            rec = {"name": rec}
        if not isinstance(rec, dict) or "name" not in rec:
            raise ConfigurationError(f"class set: classes[{i}] needs a 'name', got {rec!r}")
        _check_keys(rec, RECORD_KEYS, f"classes[{i}]")
        if "id" in rec and "ids" in rec:
            raise ConfigurationError(f"class set: classes[{i}] has both 'id' and 'ids'; give one")
        names.append(_check_name(rec["name"], f"classes[{i}].name"))
        ids.append(rec.get("ids", rec.get("id", i)))
        colors.append(rec.get("color"))
    if any(c is None for c in colors):
        colors = None if all(c is None for c in colors) else [
            c if c is not None else default_colors(len(names))[i] for i, c in enumerate(colors)
        ]
    return names, ids, colors


def _as_rgb(v: Any) -> Any:
    return tuple(v) if isinstance(v, (list, tuple)) else v


def _file_ids(ids: list[Any], id_type: str) -> list[Any]:
    """IDs as written in a file -> ``ClassSet(label_ids=...)`` entries: a triplet becomes a
    tuple, a list of several IDs stays a list, a one-element grey list becomes its value."""
    if id_type == "rgb":
        entries = []
        for e in ids:
            if isinstance(e, list) and e and all(is_int(x) for x in e) and len(e) == 3:
                entries.append(tuple(e))  # one triplet
            elif isinstance(e, list):
                entries.append([_as_rgb(x) for x in e])
            else:
                entries.append(_as_rgb(e))
        return entries
    ids = [list(e) if isinstance(e, (list, tuple)) else e for e in ids]
    return [e[0] if isinstance(e, list) and len(e) == 1 else e for e in ids]


def _triplets_only(ids: Any) -> bool:
    """Every entry a list of 3 ints 0..255, and some int in two entries (so not grey IDs)."""
    if not ids or not all(isinstance(e, list) and len(e) == 3 and all(is_int(x) and 0 <= x <= 255 for x in e)
                          for e in ids):
        return False
    flat = [x for e in ids for x in set(e)]
    return len(flat) != len(set(flat))


def parse_class_dict(d: Any) -> tuple[list[Any], list[Any] | None, Any, list[Any]]:
    """A dict in one of the schemas (or a list of names) -> ``ClassSet`` arguments
    ``(names, label_ids, colors, void_ids)``.

    In files, RGB triplets are lists of 3 ints; ``id_type: rgb`` says so (it is inferred
    when an id is a nested list or a '#rrggbb' string, and when every class's IDs are 3
    ints that, read as grey IDs, would give one value to two classes:
    ``[[48, 112, 32], [176, 112, 32]]``).

    The schema is strict: a key that the form does not take (``void_idz``) is refused, naming
    the nearest valid key; a list entry given as a scalar, null or string (``"void_ids": 255``,
    ``"names": "abc"``) is refused, naming the key.

    Raises:
        ConfigurationError: a malformed dict, naming the offending key or entry.
    """
    if isinstance(d, list):
        d = {"names": d}
    if not isinstance(d, dict):
        raise ConfigurationError(f"class set must be a mapping or a list of names, got {type(d).__name__}")
    if "classes" in d:
        _check_keys(d, RECORDS_KEYS, "a class set with 'classes' (give each class its 'ids' and 'color')")
        _check_types(d)
        names, ids, colors = _records(d["classes"])
    elif "names" in d:
        _check_keys(d, COLUMNS_KEYS, "a class set with 'names'")
        _check_types(d)
        names = [_check_name(n, f"names[{i}]") for i, n in enumerate(d["names"])]
        ids = d.get("label_ids")
        colors = d.get("colors")
    else:
        _check_keys(d, tuple(dict.fromkeys(RECORDS_KEYS + COLUMNS_KEYS)), "a class set")
        raise ConfigurationError("class set: expected a 'classes' or a 'names' entry")
    void_ids = list(d.get("void_ids", []) or [])
    id_type = d.get("id_type")
    if id_type is None:
        flat = [x for e in (ids or []) for x in (e if isinstance(e, list) else [e])] + void_ids
        rgb = any(isinstance(x, (list, tuple)) or (isinstance(x, str) and x.startswith("#")) for x in flat)
        id_type = "rgb" if rgb or _triplets_only(ids) else "grey"
    if id_type not in ("grey", "rgb"):
        raise ConfigurationError(f"class set: id_type must be 'grey' or 'rgb', got {id_type!r}")
    if ids is not None:
        ids = _file_ids(ids, id_type)
    if id_type == "rgb":
        void_ids = [_as_rgb(v) for v in void_ids]
    return names, ids, colors, void_ids


def save_class_file(path: str | Path, data: dict[str, Any], overwrite: bool = False) -> Path:
    """Write ``data`` as JSON (``.json``) or YAML (``.yaml``/``.yml``), atomically.

    Raises:
        FileExistsError: the file exists and ``overwrite`` is False.
        ConfigurationError: another suffix.
    """
    from pixelseg.utils.atomic import atomic_write

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = json.dumps(data, indent=2) + "\n"
    elif suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
    else:
        raise ConfigurationError(f"ClassSet.save: {path} must end in .json, .yaml or .yml")
    with atomic_write(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def load_class_file(path: str | Path, build: Callable[[Any], T]) -> T:
    """Read a class-set file and pass what it holds to ``build`` (``ClassSet.from_dict``).

    ``.json``, ``.yaml``/``.yml``; a ``.txt`` file is read as one class name per line.

    Raises:
        FileNotFoundError: no such file.
        DataError: another suffix, a file that does not parse, or a ConfigurationError from
            ``build``; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"class set file {path} does not exist")
    text = read_utf8(path, "the class set file")
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
        return build(data)
    except ConfigurationError as exc:
        raise DataError(f"{path}: {exc}") from None
