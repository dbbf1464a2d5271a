"""Recognising the folder layouts of :mod:`.folders` and :mod:`.class_folders` (used by
:func:`~pixelseg.data.formats.detect_layout`): class folders, suffixed file names, nested
groups, masks beside their images. Each guess is printed by ``pixelseg info`` as the
``data:`` block that reads it, to check and correct.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from pixelseg.data.classes import ClassSet
from pixelseg.data.formats.detect import DetectedLayout
from pixelseg.data.formats.folders import SPLIT_NAMES, find_groups
from pixelseg.data.formats.generic import FOLDER_PAIRS, LABEL_SUFFIXES, find_class_file, find_folder_pair
from pixelseg.data.io import IMAGE_EXTENSIONS, LABEL_EXTENSIONS

__all__ = ["common_suffix", "detect_folder_layout"]

IMAGE_DIR_NAMES = ("images", "image", "imgs", "img", "img_dir", "JPEGImages")
#: Words in a folder name that make it a region (field-of-view) mask rather than the labels.
REGION_WORDS = ("roi", "fov", "region", "mask")
_SEPARATORS = "_-. "


def common_suffix(stems: list[str]) -> str:
    """The longest suffix shared by all stems that starts at a separator (``_ - .`` or a
    space) and leaves a non-empty name: ``["21_training", "22_training"]`` -> ``"_training"``."""
    if not stems:
        return ""
    shared = os.path.commonprefix([s[::-1] for s in stems])[::-1]
    shortest = min(len(s) for s in stems)
    for i, ch in enumerate(shared):
        if ch in _SEPARATORS and len(shared) - i < shortest:
            return shared[i:]
    return ""


def _stems(folder: Path, extensions: tuple[str, ...]) -> list[str]:
    return [n.rpartition(".")[0] for n in os.listdir(folder) if n.lower().endswith(extensions) and not n.startswith(".")]


def _strip(stems: list[str], suffix: str) -> set[str]:
    return {s[: len(s) - len(suffix)] if suffix and s.endswith(suffix) else s for s in stems}


def _class_file_note(class_file: Path | None) -> tuple[ClassSet | None, list[str]]:
    if class_file is None:
        return None, ["no class file: pass --classes (or put classes.json in the folder)"]
    return ClassSet.load(class_file), [f"classes from {class_file.name}"]


def _class_folders(root: Path) -> DetectedLayout | None:
    from pixelseg.data.formats.class_folders import BACKGROUND, class_folder_names

    pair = find_folder_pair(root)
    if pair is None or find_class_file(root) is not None:
        return None
    image_dir, label_dir = pair
    names = class_folder_names(label_dir)
    if not names or set(names) <= set(SPLIT_NAMES) or _stems(label_dir, LABEL_EXTENSIONS):
        return None
    return DetectedLayout(
        "class_folders", root, f"binary masks in {label_dir.name}/<class>/, the class is the folder name",
        ClassSet([BACKGROUND, *names]), [f"classes: {BACKGROUND} + {', '.join(names)}"],
        {"image_dir": image_dir.name, "label_dir": label_dir.name},
    )  # fmt: skip


def _suffix(root: Path) -> DetectedLayout | None:
    image_dir = next((root / n for n in IMAGE_DIR_NAMES if (root / n).is_dir()), None)
    if image_dir is None:
        return None
    image_stems = _stems(image_dir, IMAGE_EXTENSIONS)
    image_suffix = common_suffix(image_stems)
    keys = _strip(image_stems, image_suffix)
    found = []  # (folder, suffix, hits)
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p != image_dir and not p.name.startswith(".")):
        stems = _stems(folder, LABEL_EXTENSIONS)
        suffix = common_suffix(stems)
        hits = len(keys & _strip(stems, suffix))
        if stems and (image_suffix or suffix) and hits * 2 >= len(keys) > 0:
            found.append((folder, suffix, hits))
    if not found:
        return None
    regions = [f for f in found if any(w in f[0].name.lower() for w in REGION_WORDS)]
    labels = [f for f in found if f not in regions] or regions[:1]
    label = labels[0]
    region = next((f for f in regions if f is not label), None)
    options = {"image_dir": image_dir.name, "label_dir": label[0].name, "image_suffix": image_suffix,
               "label_suffix": label[1]}  # fmt: skip
    if region is not None:
        options |= {"region_dir": region[0].name, "region_suffix": region[1]}
    class_file = find_class_file(root, label[0])
    class_set, notes = _class_file_note(class_file)
    notes.append(f"{label[2]} of {len(keys)} images paired by name without the suffixes")
    return DetectedLayout("suffix", root, f"label files in {label[0].name}/ named <name>{label[1]}", class_set, notes,
                          options, class_file)  # fmt: skip


def _nested(root: Path) -> DetectedLayout | None:
    for image_name, label_name in FOLDER_PAIRS:
        groups = [g for g in find_groups(root, image_name, label_name, max_depth=3) if g != root]
        if groups:
            class_file = find_class_file(root)
            class_set, notes = _class_file_note(class_file)
            notes.insert(0, f"{len(groups)} groups: {', '.join(g.relative_to(root).as_posix() for g in groups[:5])}"
                            + (" ..." if len(groups) > 5 else ""))  # fmt: skip
            return DetectedLayout("nested", root, f"<group>/{image_name}/ paired with <group>/{label_name}/ by file name",
                                  class_set, notes, {"image_dir": image_name, "label_dir": label_name}, class_file)  # fmt: skip
    return None


def _beside(root: Path) -> DetectedLayout | None:
    names = [n for n in os.listdir(root) if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith(".")]
    stems = {n.rpartition(".")[0] for n in names}
    pngs = [n.rpartition(".")[0] for n in names if n.lower().endswith(".png")]
    hits = Counter({s: sum(1 for p in pngs if p.endswith(s) and p[: -len(s)] in stems) for s in LABEL_SUFFIXES if s})
    class_file = find_class_file(root)
    class_set, notes = _class_file_note(class_file)
    if hits and max(hits.values()) > 0:
        suffix = hits.most_common(1)[0][0]
        return DetectedLayout("beside", root, f"masks beside their images, named <name>{suffix}.png", class_set, notes,
                              {"image_dir": ".", "label_dir": ".", "label_suffix": suffix}, class_file)  # fmt: skip
    by_stem: dict[str, set[str]] = {}
    for n in names:
        by_stem.setdefault(n.rpartition(".")[0], set()).add("." + n.rpartition(".")[2].lower())
    others = Counter(e for exts in by_stem.values() if ".png" in exts for e in exts - {".png"})
    if not others:
        return None
    image_ext = others.most_common(1)[0][0]
    return DetectedLayout("beside", root, f"masks beside their images: NAME{image_ext} + NAME.png", class_set, notes,
                          {"image_dir": ".", "label_dir": ".", "image_ext": image_ext, "label_ext": ".png"}, class_file)  # fmt: skip


def detect_folder_layout(root: Path) -> DetectedLayout | None:
    """The first of class folders, suffixes, nested groups, masks beside images that fits
    ``root``; None when none does (a plain images/ + labels/ pair is left to ``generic``)."""
    from pixelseg.data.formats.generic import guess_label_suffix

    pair = find_folder_pair(root)
    found = _class_folders(root)
    if found is None and pair is not None:
        images, labels = (sorted(os.listdir(p)) for p in pair)
        suffix = guess_label_suffix(images, labels)
        image_stems = {n.rpartition(".")[0] for n in images}
        if sum(1 for n in labels if n.rpartition(".")[0].removesuffix(suffix) in image_stems) * 2 < len(images):
            found = _suffix(root)  # the fixed suffixes pair too few: try suffixes found in the names
        return found
    return found or _suffix(root) or _nested(root) or _beside(root)
