"""The class list of the labeling app and its editor (add, rename, recolour).

Classes are never removed or reordered by the editor: a class index is what the label
PNGs store, so removing class 3 would silently change the meaning of every saved label.
New classes are appended; names and colours of existing ones may change. The file is
written atomically and guarded by a version (hash of its bytes) like the label files.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np

from pixelseg.conventions import MAX_CLASSES
from pixelseg.errors import ConfigurationError
from pixelseg.labeling.labels import VOID, Conflict, LabelCodec, file_version
from pixelseg.labeling.locking import FolderLock

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_color(value, where: str) -> list[int]:
    """``"#rrggbb"`` or ``[r, g, b]`` (0..255) -> [r, g, b]; ConfigurationError otherwise."""
    if isinstance(value, str):
        match = _HEX.match(value.strip())
        if match:
            h = match.group(1)
            return [int(h[i : i + 2], 16) for i in (0, 2, 4)]
    elif isinstance(value, list | tuple) and len(value) == 3:
        if all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value):
            return [int(c) for c in value]
    raise ConfigurationError(f"{where}: colour {value!r} is not '#rrggbb' nor [r, g, b] with 0..255")


def _free_label_id(used: set[int]) -> int:
    for value in range(MAX_CLASSES):
        if value not in used:
            return value
    raise ConfigurationError("no free label id left (at most 255 classes)")


class ClassFile:
    """classes.json of a labeling project: the current ClassSet, its version and editor.

    Raises:
        ConfigurationError: the file does not exist, or its class set cannot be saved as
            palette PNGs (see :class:`LabelCodec`).
    """

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise ConfigurationError(
                f"classes file {path} does not exist; create it with ClassSet(names).save(path)"
            )
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        from pixelseg.data import ClassSet

        class_set = ClassSet.load(self.path)
        if class_set.id_type == "grey" and not any(0 <= v <= 255 for v in class_set.void_ids):
            # Unlabelled pixels are saved as void 255; a class set without a void id could
            # not read them back. The user's file is never rewritten unasked: say the fix.
            raise ConfigurationError(
                f"classes file {self.path} declares no void id, so unlabelled pixels (saved as "
                f"{VOID}) could not be read back; add \"void_ids\": [{VOID}] to it"
            )
        self.class_set = class_set
        self.codec = LabelCodec(class_set)
        self.version = file_version(self.path)

    def reload_if_changed(self) -> None:
        """Pick up edits made to the file by hand while the app runs."""
        with self._lock:
            if file_version(self.path) != self.version:
                self._load()

    def describe(self) -> dict:
        """JSON view: version and one {index, name, color "#rrggbb"} per class."""
        colors = np.asarray(self.class_set.colors, dtype=np.uint8)
        return {
            "version": self.version,
            "classes": [
                {"index": i, "name": name, "color": "#" + bytes(colors[i].tolist()).hex()}
                for i, name in enumerate(self.class_set.names)
            ],
        }

    def update(self, classes: list[dict], base_version: str | None) -> dict:
        """Apply an edited class list (same classes first, maybe new ones appended).

        Args:
            classes: one {"name": str, "color": "#rrggbb" | [r, g, b]} per class, in order.
            base_version: the version the editor loaded; None = force.

        Returns:
            :meth:`describe` of the saved file.

        Raises:
            Conflict: the file changed since ``base_version``.
            ConfigurationError: fewer classes than before (removal), an empty or duplicate
                name, a bad colour, more than 255 classes.
        """
        from pixelseg.data import ClassSet

        if not isinstance(classes, list) or not all(isinstance(c, dict) for c in classes):
            raise ConfigurationError("classes must be a list of {name, color} objects")
        names = []
        for i, item in enumerate(classes):
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ConfigurationError(f"class {i}: name {name!r} is empty or not text")
            names.append(name.strip())
        colors = [parse_color(item.get("color"), f"class {i} ({names[i]})") for i, item in enumerate(classes)]
        with self._lock, FolderLock(self.path.parent):
            current = file_version(self.path)
            if base_version is not None and current != base_version:
                raise Conflict(current)
            if current != self.version:
                self._load()
            old = self.class_set
            if len(names) < old.num_classes:
                raise ConfigurationError(
                    f"the class editor cannot remove classes ({old.num_classes} before, {len(names)} "
                    "sent): saved labels store class indices"
                )
            if len(names) > MAX_CLASSES:
                raise ConfigurationError(f"at most {MAX_CLASSES} classes, got {len(names)}")
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ConfigurationError(f"class names must be unique; repeated: {duplicates}")
            ids = old.label_ids
            used = {int(x) for v in ids for x in v} | {int(v) for v in old.void_ids}
            for _ in range(len(names) - len(ids)):
                new_id = _free_label_id(used)
                used.add(new_id)
                ids.append(new_id)
            new_set = ClassSet(names, ids, colors, old.void_ids)
            LabelCodec(new_set)  # refuse a set the app could not save
            new_set.save(self.path, overwrite=True)
            self._load()
            return self.describe()
