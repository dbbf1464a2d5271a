"""One-sentence messages for pydantic validation errors of the configuration files.

Every unknown key is named with its full dotted path and the nearest valid key at that
depth (``data.tolerence: unknown key (did you mean 'tolerance'?)``); every bad value with
its path, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = ["did_you_mean", "describe_validation_error"]

#: Sections with at most this many keys list them all after an unknown key.
_LISTED_KEYS = 10


def did_you_mean(key: str, valid: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the valid name nearest to ``key`` (by difflib's
    similarity, else the first name containing ``key``), or ``""``."""
    valid = [str(v) for v in valid]
    near = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6) or [
        v for v in valid if len(str(key)) >= 3 and str(key).lower() in v.lower()][:1]
    return f" (did you mean {near[0]!r}?)" if near else ""


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model class inside an annotation (``Model``, ``Model | None``...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _valid_keys(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    """The field names of the model reached by ``path`` (the loc of an unknown key, minus
    the key), with what ``model.extra_keys(path)`` adds (e.g. a layout's options)."""
    for part in path:
        field = model.model_fields.get(str(part))
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            return []
        model = inner
    keys = list(model.model_fields)
    extra = getattr(model, "extra_keys", None)
    return list(dict.fromkeys(keys + list(extra()))) if callable(extra) else keys


def describe_validation_error(exc: ValidationError, model: type[BaseModel], prefix: str = "") -> str:
    """The problems of ``exc`` (raised validating ``model``) as one line: ``path: problem``
    joined by ``"; "``; ``prefix`` is put before every path (``"data."``)."""
    parts = []
    for error in exc.errors():
        loc = list(error["loc"])
        path = prefix + ".".join(map(str, loc))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            valid = _valid_keys(model, loc[:-1])
            listed = f"; valid keys: {', '.join(valid)}" if 0 < len(valid) <= _LISTED_KEYS else ""
            parts.append(f"{path}: unknown key{did_you_mean(loc[-1], valid)}{listed}")
        elif not loc or message.startswith(path):
            parts.append(message)
        elif isinstance(error.get("input"), dict):  # a check of a whole section
            parts.append(f"{path}: {message}")
        elif error["type"] in ("missing",):
            parts.append(f"{path}: {message.lower()}")
        else:
            parts.append(f"{path}={error.get('input')!r}: {message}")
    return "; ".join(parts)
