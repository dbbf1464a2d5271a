"""Reading text files (YAML, JSON, lists) as UTF-8 with an error that names the file."""

from __future__ import annotations

from pathlib import Path

from pixelseg.errors import DataError

__all__ = ["read_utf8"]


def read_utf8(path: str | Path, what: str = "the file") -> str:
    """The text of ``path`` decoded as UTF-8 (a leading byte-order mark is dropped).

    Args:
        path: the file.
        what: what the file is, for the message (``"the class set file"``).

    Raises:
        FileNotFoundError: no such file.
        DataError: the bytes are not UTF-8 (the message gives the offset of the first bad
            byte), or the path is a folder or unreadable.
    """
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: {what} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save it with UTF-8 encoding"
        ) from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
