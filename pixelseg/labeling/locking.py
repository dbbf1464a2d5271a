"""A lock on a folder that holds across threads and processes, and stale temp-file cleanup.

Two labeling servers may serve the same labels folder (two people, one share). A save is
"compare the version on disk, then replace the file"; that check-then-write must be one
step for every process, not only for the threads of one server. :class:`FolderLock` takes
an exclusive ``flock`` on the folder itself (POSIX: no file is added to the user's folder)
or an ``msvcrt`` lock on ``<folder>/.pixelseg.lock`` (Windows) for the duration of the
block, so of two servers saving over the same version, one succeeds and the other gets a
conflict.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

__all__ = ["FolderLock", "remove_stale_temp_files", "LOCK_NAME"]

LOCK_NAME = ".pixelseg.lock"
#: Temporary files of :func:`pixelseg.utils.atomic.atomic_write`: ``.<name>.<random>.tmp<suffix>``.
_TEMP_PATTERN = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp(\.[A-Za-z0-9]+)?$")


class FolderLock:
    """``with FolderLock(folder): ...`` runs the block while no other holder runs its own.

    Holds across threads (a ``threading.Lock`` per folder) and across processes (an
    exclusive ``flock`` on the folder; on Windows on ``folder/.pixelseg.lock``).
    """

    _thread_locks: dict[str, threading.Lock] = {}
    _guard = threading.Lock()

    def __init__(self, folder: str | os.PathLike):
        self.path = Path(folder) / LOCK_NAME if os.name == "nt" else Path(folder)
        key = str(Path(folder).resolve())
        with FolderLock._guard:
            self._thread_lock = FolderLock._thread_locks.setdefault(key, threading.Lock())
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        self._thread_lock.acquire()
        try:
            self._fd = _open_lock(self.path)
            _lock_file(self._fd)
        except BaseException:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._fd is not None:
                _unlock_file(self._fd)
                os.close(self._fd)
                self._fd = None
        finally:
            self._thread_lock.release()


def _reset_after_fork() -> None:
    # A child forked while a thread of the parent held a lock would inherit it held forever.
    FolderLock._thread_locks = {}
    FolderLock._guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def remove_stale_temp_files(folder: str | os.PathLike, min_age_s: float = 10.0) -> list[Path]:
    """Delete the temporary files an interrupted atomic write left in ``folder``.

    Only files named like :func:`~pixelseg.utils.atomic.atomic_write`'s temporaries
    (``.<name>.<random>.tmp<suffix>``) and older than ``min_age_s`` seconds are removed,
    under :class:`FolderLock`, so a write in progress in another server is never touched.

    Returns:
        The paths removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    with FolderLock(folder):
        for path in folder.iterdir():
            if not _TEMP_PATTERN.match(path.name) or path.is_symlink() or not path.is_file():
                continue
            try:
                if now - path.stat().st_mtime >= min_age_s:
                    path.unlink()
                    removed.append(path)
            except OSError:  # gone already, or not ours to remove
                continue
    return removed


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _open_lock(path: Path) -> int:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)

    def _lock_file(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

    def _unlock_file(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _open_lock(path: Path) -> int:
        return os.open(path, os.O_RDONLY)

    def _lock_file(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock_file(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
