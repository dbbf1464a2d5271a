"""Classes read off the label files themselves, for data that comes without a class file."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from pixelseg.conventions import MAX_CLASSES
from pixelseg.data.classes import ClassSet
from pixelseg.errors import DataError

__all__ = ["infer_class_set", "RAW_VALUES"]

#: A stand-in class set for opening a layout only to read its raw label values.
RAW_VALUES = ClassSet(["<raw values>"])


def infer_class_set(label_stores: Iterable, max_classes: int = 32) -> ClassSet:
    """One class per distinct raw value of the label files, in increasing value order.

    Grey values v become classes ``"value_<v>"`` with label ID v; RGB triplets become classes
    ``"rgb_<r>_<g>_<b>"`` with that colour as label ID and display colour. No value is void
    (for 0/255 masks both values are classes). Meant for binary and few-class masks without
    a class file; a class file names the classes and says what is void.

    Args:
        label_stores: PixelLabelDatastores (their ``read_raw``), e.g. every split of a layout
            opened with :data:`RAW_VALUES`.
        max_classes: more distinct values than this is an error (a photo or a
            continuous-valued mask is not a label map).

    Raises:
        DataError: no label file; more than ``max_classes`` (or MAX_CLASSES) distinct values,
            naming the file where the count was passed.
    """
    limit = min(max_classes, MAX_CLASSES)
    grey: set[int] = set()
    rgb: set[tuple[int, int, int]] = set()
    files = 0
    for store in label_stores:
        for i in range(len(store)):
            raw = np.asarray(store.read_raw(i))
            files += 1
            if raw.ndim == 3:
                rgb.update(map(tuple, np.unique(raw[..., :3].reshape(-1, 3), axis=0).tolist()))
            else:
                grey.update(np.unique(raw).tolist())
            if len(grey) + len(rgb) > limit:
                raise DataError(
                    f"{store.files[i]}: the label files hold more than {limit} distinct values "
                    f"({len(grey) + len(rgb)} so far), too many to take each as a class; give a class file (--classes)"
                )
    if files == 0:
        raise DataError("no label files to read the classes from")
    if grey and rgb:
        raise DataError("the label files mix grey values and RGB colours; give a class file (--classes)")
    if rgb:
        ids = sorted(rgb)
        return ClassSet([f"rgb_{r}_{g}_{b}" for r, g, b in ids], label_ids=ids, colors=ids)
    ids = sorted(int(v) for v in grey)
    return ClassSet([f"value_{v}" for v in ids], label_ids=ids)
