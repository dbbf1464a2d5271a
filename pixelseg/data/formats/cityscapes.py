"""Cityscapes (Cordts et al., CVPR 2016): ``leftImg8bit/<split>/<city>/*_leftImg8bit.png``
and ``gtFine/<split>/<city>/*_gtFine_labelIds.png`` (label ids 0..33, -1 license plate).

The 19 evaluation classes and the labelId -> trainId table follow ``labels.py`` of the
official cityscapesScripts; every other id (unlabeled, ego vehicle, ..., license plate)
is void.
"""

from __future__ import annotations

import os
from pathlib import Path

from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import combine
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import ConfigurationError, DataError

__all__ = ["CITYSCAPES_CLASSES", "LABEL_ID_TO_TRAIN_ID", "cityscapes_class_set", "read_cityscapes"]

#: (name, labelId, colour) of the 19 train classes, in trainId order.
CITYSCAPES_CLASSES = (
    ("road", 7, (128, 64, 128)), ("sidewalk", 8, (244, 35, 232)), ("building", 11, (70, 70, 70)),
    ("wall", 12, (102, 102, 156)), ("fence", 13, (190, 153, 153)), ("pole", 17, (153, 153, 153)),
    ("traffic light", 19, (250, 170, 30)), ("traffic sign", 20, (220, 220, 0)),
    ("vegetation", 21, (107, 142, 35)), ("terrain", 22, (152, 251, 152)), ("sky", 23, (70, 130, 180)),
    ("person", 24, (220, 20, 60)), ("rider", 25, (255, 0, 0)), ("car", 26, (0, 0, 142)),
    ("truck", 27, (0, 0, 70)), ("bus", 28, (0, 60, 100)), ("train", 31, (0, 80, 100)),
    ("motorcycle", 32, (0, 0, 230)), ("bicycle", 33, (119, 11, 32)),
)  # fmt: skip

#: labelId -> trainId (255 = ignored), for ids -1..33.
LABEL_ID_TO_TRAIN_ID = {i: 255 for i in range(-1, 34)} | {lid: t for t, (_, lid, _) in enumerate(CITYSCAPES_CLASSES)}


def cityscapes_class_set(label_type: str = "labelIds") -> ClassSet:
    """The 19 Cityscapes train classes.

    label_type ``"labelIds"``: raw values are label ids (7 road, 8 sidewalk, ...) and every
    other id in -1..33 is void; ``"labelTrainIds"``: raw values are train ids 0..18, 255 void.
    """
    names = [n for n, _, _ in CITYSCAPES_CLASSES]
    colors = [c for _, _, c in CITYSCAPES_CLASSES]
    if label_type == "labelIds":
        ids = [lid for _, lid, _ in CITYSCAPES_CLASSES]
        void = [i for i, t in LABEL_ID_TO_TRAIN_ID.items() if t == 255]
        return ClassSet(names, ids, colors=colors, void_ids=void)
    if label_type == "labelTrainIds":
        return ClassSet(names, colors=colors, void_ids=[255])
    raise ConfigurationError(f"label_type must be 'labelIds' or 'labelTrainIds', got {label_type!r}")


def read_cityscapes(
    root: str | os.PathLike,
    label_type: str = "labelIds",
    annotations: str = "gtFine",
    class_set: ClassSet | None = None,
    unpaired: str = "error",
) -> dict[str, PairedDatastore]:
    """Read ``root/leftImg8bit/<split>/`` and ``root/<annotations>/<split>/`` for every split
    present (train, val, test, ...), pairing ``*_leftImg8bit.png`` with
    ``*_<annotations>_<label_type>.png``.

    class_set overrides :func:`cityscapes_class_set`; unpaired: as for ``combine``.

    Returns:
        ``{split: PairedDatastore}`` with :func:`cityscapes_class_set`.
    Raises:
        DataError: missing folders or unpaired files.
    """
    root = Path(root)
    images_root, labels_root = root / "leftImg8bit", root / annotations
    if not images_root.is_dir() or not labels_root.is_dir():
        raise DataError(f"{root}: a Cityscapes layout needs leftImg8bit/ and {annotations}/")
    class_set = class_set or cityscapes_class_set(label_type)
    suffix = f"_{annotations}_{label_type}"
    out = {}
    for split_dir in sorted(p for p in images_root.iterdir() if p.is_dir()):
        label_split = labels_root / split_dir.name
        if not label_split.is_dir():
            continue
        imds = ImageDatastore(split_dir, include_subfolders=True, file_extensions=[".png"])
        pxds = PixelLabelDatastore(
            str(label_split / "**" / f"*{suffix}.png"), class_set, include_subfolders=True
        )
        out[split_dir.name] = combine(imds, pxds, image_suffix="_leftImg8bit", label_suffix=suffix, unpaired=unpaired)
    if not out:
        raise DataError(f"{root}: no split folder found in both leftImg8bit/ and {annotations}/")
    return out
