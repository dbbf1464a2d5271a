"""MATLAB ``.mat`` label files: the label array stored under a variable path.

MAT files up to version 7 are read with :func:`scipy.io.loadmat` (structs become dicts,
cell arrays lists in MATLAB's linear order, arrays keep their shape). Version 7.3 files are HDF5; they are read with
``h5py`` when it is installed (arrays transposed back from MATLAB's column-major order) and
refused with one sentence otherwise. Both come with the ``mat`` extra
(``pip install "pixelseg[mat]"``).

A variable path names a variable, then struct fields and 0-based cell indices, separated by
``/`` or ``.``: ``"labels"``, ``"groundTruth/0/Segmentation"`` (BSDS500), ``"gt.mask"``. A
cell array of one element is stepped through without an index, so
``"groundTruth/Segmentation"`` reads the first (only) ground truth.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from pixelseg.data.decoding import decoding
from pixelseg.errors import DataError
from pixelseg.utils.extras import install_command, require
from pixelseg.utils.pixel_limit import check_pixel_count

__all__ = ["read_mat_label", "mat_arrays"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAX_LISTED = 20


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.ndim >= 2


def mat_arrays(tree: Any, prefix: str = "") -> list[tuple[str, tuple[int, ...], str]]:
    """Every numeric array of 2 or more axes in a loaded MAT tree: (path, shape, dtype)."""
    found: list[tuple[str, tuple[int, ...], str]] = []
    if _is_array(tree):
        found.append((prefix, tuple(tree.shape), str(tree.dtype)))
    elif isinstance(tree, dict):
        for key, value in tree.items():
            if not str(key).startswith("__"):
                found += mat_arrays(value, f"{prefix}/{key}" if prefix else str(key))
    elif isinstance(tree, (list, tuple)) or (isinstance(tree, np.ndarray) and tree.dtype == object):
        for i, value in enumerate(list(np.asarray(tree, dtype=object).reshape(-1)) if isinstance(tree, np.ndarray)
                                  else tree):
            found += mat_arrays(value, f"{prefix}/{i}")
    return found


def _listing(tree: Any) -> str:
    arrays = mat_arrays(tree)
    if not arrays:
        return "it holds no numeric array of 2 or more axes"
    shown = ", ".join(f"{p} ({'x'.join(map(str, s))} {d})" for p, s, d in arrays[:_MAX_LISTED])
    more = f" and {len(arrays) - _MAX_LISTED} more" if len(arrays) > _MAX_LISTED else ""
    return f"its arrays are: {shown}{more}"


def _step(node: Any, part: str) -> Any:
    if isinstance(node, np.ndarray) and node.dtype == object:
        node = list(node.reshape(-1))
    if isinstance(node, (list, tuple)):
        if part.isdigit():
            return node[int(part)] if int(part) < len(node) else None
        return _step(node[0], part) if len(node) == 1 else None
    if part == "0":  # a 1 x 1 cell array, which loadmat squeezes to its element
        return node
    if isinstance(node, dict):
        return node.get(part)
    return None


def _resolve(path: Path, tree: dict, variable: str | None) -> np.ndarray:
    if variable is None:
        arrays = [a for a in mat_arrays(tree) if len(a[1]) == 2 or (len(a[1]) == 3 and a[1][2] in (3, 4))]
        if len(arrays) != 1:
            raise DataError(
                f"{path}: the .mat file holds {len(arrays)} H x W arrays; name the label array with "
                f"mat_variable='path/to/array'; {_listing(tree)}"
            )
        variable = arrays[0][0]
    node: Any = tree
    for part in (p for p in re.split(r"[/.]", variable) if p):
        node = _step(node, part)
        if node is None:
            break
    if not _is_array(node):
        raise DataError(f"{path}: the .mat file has no label array at mat_variable {variable!r}; {_listing(tree)}")
    return node


def _plain(node: Any) -> Any:
    """loadmat's structs -> dicts, cell arrays -> lists (linear, column-major order); a
    1 x 1 struct array -> its struct."""
    from scipy.io.matlab import mat_struct

    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items() if not k.startswith("__")}
    if isinstance(node, mat_struct):
        return {name: _plain(getattr(node, name)) for name in node._fieldnames}
    if isinstance(node, np.ndarray) and node.dtype == object:
        items = [_plain(v) for v in node.reshape(-1, order="F")]
        return items[0] if len(items) == 1 and isinstance(items[0], dict) and node.size == 1 else items
    return node


def _load_v73(path: Path) -> dict:
    try:
        import h5py
    except ImportError:
        raise DataError(
            f"{path}: a MATLAB v7.3 .mat file (HDF5) needs the h5py package to be read "
            f"({install_command('mat')}); "
            "or save it from MATLAB with save(file, var, '-v7')"
        ) from None

    def load(node: Any) -> Any:
        if isinstance(node, h5py.Dataset):
            value = node[()]
            return np.ascontiguousarray(value.T) if isinstance(value, np.ndarray) else value
        return {key: load(node[key]) for key in node if not key.startswith("#")}

    with decoding(path, "the .mat file (HDF5)"), h5py.File(path, "r") as f:
        return load(f)


def read_mat_label(path: Path, variable: str | None = None) -> np.ndarray:
    """The label array of a ``.mat`` file.

    Args:
        path: the ``.mat`` file.
        variable: the variable path (see the module docstring); None: the file's only
            array of H x W (or H x W x 3) values.

    Returns:
        The stored array (any numeric dtype; logical arrays as uint8 0/1), H x W or
        H x W x 3, C order.

    Raises:
        FileNotFoundError: no such file. DataError: unreadable, a v7.3 file without h5py,
            no array at ``variable`` or several candidates without it (the message lists
            the file's arrays with their paths, shapes and types), above the pixel limit.
    """
    with open(path, "rb") as f:
        head = f.read(128)
    if head.startswith(_HDF5_MAGIC) or head[512:520] == _HDF5_MAGIC or b"MATLAB 7.3" in head:
        tree = _load_v73(path)
    else:
        scipy_io = require("scipy.io", "mat", f"{path}: reading a MATLAB .mat label file")
        with decoding(path, "the .mat file"):
            for _, shape, _ in scipy_io.whosmat(str(path)):
                if len(shape) >= 2:
                    check_pixel_count(path, int(shape[0]) * int(shape[1]), int(np.prod(shape[2:], dtype=np.int64)))
            tree = _plain(scipy_io.loadmat(str(path), squeeze_me=False, struct_as_record=False))
    data = _resolve(path, tree, variable)
    check_pixel_count(path, data.shape[0] * data.shape[1])
    if data.dtype == np.bool_:
        data = data.astype(np.uint8)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim != 2 and not (data.ndim == 3 and data.shape[2] in (3, 4)):
        raise DataError(f"{path}: the .mat array {variable!r} has shape {data.shape}; expected H x W or H x W x 3")
    return np.ascontiguousarray(data)
