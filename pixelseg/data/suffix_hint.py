"""Which name suffixes would pair two lists of file keys: the hint of an "unpaired files" error.

Datasets name a label after its image with a suffix (CamVid ``0001TP_006690_L.png``,
Cityscapes ``<frame>_gtFine_labelIds.png`` beside ``<frame>_leftImg8bit.png``); pairing by
the plain stem then fails for every file. :func:`suffix_hint` tries the suffixes the names
carry (each tail of a stem that begins at ``_``, ``-`` or ``.``) and says which ones would
pair every first-side key, so the error can name the option to pass.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["pairing_suffixes", "suffix_hint"]

_SEPARATORS = "_-."
_SAMPLE = 20  # keys whose tails are tried as suffixes (the error path only)


def _tails(key: str) -> set[str]:
    """Every tail of ``key`` that starts at a separator and leaves a non-empty head."""
    return {key[i:] for i in range(1, len(key)) if key[i] in _SEPARATORS}


def _strip(key: str, suffix: str) -> str:
    return key[: -len(suffix)] if suffix and key.endswith(suffix) else key


def pairing_suffixes(first: Sequence[str], second: Sequence[str],
                     unpaired_first: Sequence[str], unpaired_second: Sequence[str]) -> list[tuple[str, str]]:
    """The (first suffix, second suffix) choices that pair every key of ``second`` with a key
    of ``first`` ending with the first suffix (stripped on both sides), and pair more than
    the plain keys do; sorted by the first suffix.

    Args:
        first, second: all keys of the two sides (e.g. truth stems, prediction stems).
        unpaired_first, unpaired_second: the keys left without a partner; their tails are
            the candidates (the first 20 of each).

    Returns:
        list of (first_suffix, second_suffix); "" means no suffix on that side.
    """
    first_candidates = {""} | set().union(*(_tails(k) for k in list(unpaired_first)[:_SAMPLE]))
    second_candidates = {""} | set().union(*(_tails(k) for k in list(unpaired_second)[:_SAMPLE]))
    plain = len(set(first) & set(second))
    found = []
    for s2 in second_candidates:
        if s2 and not all(k.endswith(s2) for k in second):
            continue
        targets = {_strip(k, s2) for k in second}
        for s1 in first_candidates:
            if not s1 and not s2:
                continue
            heads = {_strip(k, s1) for k in first if not s1 or k.endswith(s1)}
            if targets <= heads and len(targets) > plain:
                found.append((s1, s2))
    return sorted(found)


def suffix_hint(first: Sequence[str], second: Sequence[str], unpaired_first: Sequence[str],
                unpaired_second: Sequence[str], first_option: str, second_option: str) -> str:
    """A sentence naming the suffix options that would pair the keys, or "" when none does.

    ``first_option`` / ``second_option`` name the options, e.g. "label_suffix
    (--label-suffix)". Example: truth stems ``a_L``, ``b_L`` and image stems ``a``, ``b`` give
    "label_suffix (--label-suffix) '_L' would pair them".
    """
    choices = pairing_suffixes(first, second, unpaired_first, unpaired_second)
    if not choices:
        return ""
    s2 = min((c[1] for c in choices), key=len)  # the shortest second suffix ("" when none is needed)
    firsts = [s1 for s1, other in choices if other == s2]
    parts = []
    if len(firsts) > 1:
        parts.append(f"{first_option} one of {', '.join(repr(s) for s in firsts[:6])}")
    elif firsts != [""]:
        parts.append(f"{first_option} {firsts[0]!r}")
    if s2:
        parts.append(f"{second_option} {s2!r}")
    return "hint: " + " with ".join(parts) + " would pair them"
