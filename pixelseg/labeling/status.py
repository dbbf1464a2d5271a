"""Per-image review status of the labeling app, in a sidecar file of the labels folder.

Each image is ``unlabelled``, ``in_progress``, ``done`` or ``reviewed``. Statuses set by
hand are stored in ``<labels_dir>/.pixelseg-status.json``::

    {"format": "pixelseg-status", "version": 1, "images": {"img_1.png": "done", ...}}

keyed by image file name. An image without an entry is ``in_progress`` when it has a label
file and ``unlabelled`` otherwise; saving a label moves ``unlabelled`` to ``in_progress``.
The file is hidden (leading dot) and is no PNG, so label datastores never read it.

Every change is a read-modify-write of the whole file under
:class:`~pixelseg.labeling.locking.FolderLock` and written with
:func:`~pixelseg.utils.atomic.atomic_write`: two servers on one labels folder never lose
each other's updates, and a reader never sees a half-written file.
"""

from __future__ import annotations

import json
from pathlib import Path

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.labeling.locking import FolderLock

__all__ = ["STATUSES", "STATUS_FILE", "FINISHED", "StatusStore"]

#: the statuses, in workflow order
STATUSES = ("unlabelled", "in_progress", "done", "reviewed")
#: statuses that count as finished in the progress bar and are skipped by "label next"
FINISHED = frozenset({"done", "reviewed"})
STATUS_FILE = ".pixelseg-status.json"
_FORMAT = "pixelseg-status"


def check_status(status) -> str:
    """``status`` when it is one of :data:`STATUSES`; ConfigurationError naming it otherwise."""
    if not isinstance(status, str) or status not in STATUSES:
        raise ConfigurationError(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
    return status


class StatusStore:
    """The status sidecar file of one labels folder.

    Args:
        labels_dir: the labels folder (must exist).
    """

    def __init__(self, labels_dir):
        self.folder = Path(labels_dir)
        self.path = self.folder / STATUS_FILE

    def read(self) -> dict[str, str]:
        """The stored statuses {image name: status}; {} when there is no file yet.

        Raises:
            DataError: the file is not a status file of this format, or holds an unknown
                status (the message names the file and the value).
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise DataError(f"status file {self.path}: not valid JSON ({exc}); fix or delete it") from None
        images = payload.get("images") if isinstance(payload, dict) else None
        if not isinstance(images, dict) or payload.get("format") != _FORMAT:
            raise DataError(
                f"status file {self.path}: expected {{\"format\": \"{_FORMAT}\", \"images\": {{name: status}}}}"
            )
        for name, status in images.items():
            if status not in STATUSES:
                raise DataError(
                    f"status file {self.path}: image {name!r} has status {status!r}, not one of {', '.join(STATUSES)}"
                )
        return dict(images)

    @staticmethod
    def effective(stored: dict[str, str], name: str, labeled: bool) -> str:
        """The status of ``name``: the stored one, else from whether a label file exists."""
        return stored.get(name) or ("in_progress" if labeled else "unlabelled")

    def set(self, name: str, status: str) -> str:
        """Store ``status`` for image ``name`` (read-modify-write under the folder lock).

        Raises:
            ConfigurationError: an unknown status.
        """
        check_status(status)
        with FolderLock(self.folder):
            stored = self.read()
            if stored.get(name) != status:
                stored[name] = status
                self._write(stored)
        return status

    def mark_saved(self, name: str) -> str:
        """A label of ``name`` was saved: ``unlabelled`` (or no entry) becomes ``in_progress``.

        Returns:
            The status after the save.
        """
        with FolderLock(self.folder):
            stored = self.read()
            if stored.get(name, "unlabelled") != "unlabelled":
                return stored[name]
            stored[name] = "in_progress"
            self._write(stored)
        return "in_progress"

    def _write(self, stored: dict[str, str]) -> None:
        from pixelseg.utils.atomic import atomic_write

        payload = {"format": _FORMAT, "version": 1, "images": dict(sorted(stored.items()))}
        with atomic_write(self.path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
