"""Every dataset layout by name, with its options: what the YAML ``data:`` block names.

A layout is fully described by a plain dict: ``{"root": ..., "layout": NAME, **options}``
(:func:`open_layout`). The names and their options:

==================  ==========================================================================
``camvid``          none (``root/train`` + ``root/trainannot`` ..., :mod:`.camvid`)
``cityscapes``      ``label_type`` (``labelIds``), ``annotations`` (``gtFine``)
``pascal-voc``      ``labels`` (``SegmentationClass``)
``cvat-mask-1.1``   ``images`` (``JPEGImages``), ``tolerance`` (0)
``labelme``         none (class names from ``labels.txt`` or the classes file)
``generic``         ``image_dir``, ``label_dir`` (detected), ``label_suffix`` (detected)
``nested``          the options of :mod:`.folders` (``image_dir`` ``images``, ``label_dir`` ``masks``)
``beside``          the options of :mod:`.folders` (``image_dir`` = ``label_dir`` = ``"."``)
``suffix``          the options of :mod:`.folders` (suffixes, ``region_dir``, ``region_suffix``)
``class_folders``   ``image_dir``, ``label_dir``, ``label_suffix``, ``threshold`` (:mod:`.class_folders`)
==================  ==========================================================================
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pixelseg.data.classes import ClassSet
from pixelseg.data.pairing import PairedDatastore
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.schema import did_you_mean

__all__ = ["LAYOUTS", "layout_options", "open_layout"]


def _camvid(root, cs, unpaired):
    from pixelseg.data.formats.camvid import read_camvid

    return read_camvid(root, class_set=cs, unpaired=unpaired)


def _cityscapes(root, cs, unpaired, label_type="labelIds", annotations="gtFine"):
    from pixelseg.data.formats.cityscapes import read_cityscapes

    return read_cityscapes(root, label_type=label_type, annotations=annotations, class_set=cs, unpaired=unpaired)


def _voc(root, cs, unpaired, labels="SegmentationClass"):
    from pixelseg.data.formats.voc import read_voc

    return read_voc(root, class_set=cs, labels=labels)


def _cvat(root, cs, unpaired, images=None, tolerance=0):
    from pixelseg.data.formats.cvat import read_cvat

    images = Path(root) / images if images is not None else None
    return {"all": read_cvat(root, images=images, class_set=cs, tolerance=tolerance, unpaired=unpaired)}


def _labelme(root, cs, unpaired):
    from pixelseg.data.formats.labelme import read_labelme

    return {"all": read_labelme(root, cs, unpaired=unpaired)}


def _coco(root, cs, unpaired, annotations=None, images=None):
    from pixelseg.data.formats.coco import read_coco

    return {"all": read_coco(root, annotations, images, class_set=cs, unpaired=unpaired)}


def _label_studio(root, cs, unpaired, annotations=None, images=None):
    from pixelseg.data.formats.label_studio import read_label_studio

    return {"all": read_label_studio(root, annotations, images, class_set=cs, unpaired=unpaired)}


def _generic(root, cs, unpaired, image_dir=None, label_dir=None, label_suffix=None):
    from pixelseg.data.formats.generic import read_generic

    return {"all": read_generic(root, cs, label_suffix=label_suffix, unpaired=unpaired, image_dir=image_dir,
                                label_dir=label_dir)}  # fmt: skip


def _folders(groups: bool, **defaults: Any) -> Callable[..., dict[str, PairedDatastore]]:
    def read(root, cs, unpaired, **options):
        from pixelseg.data.formats.folders import read_folders

        return read_folders(root, cs, unpaired, groups=groups, **{**defaults, **options})

    return read


def _class_folders(root, cs, unpaired, **options):
    from pixelseg.data.formats.class_folders import read_class_folders

    return read_class_folders(root, cs, unpaired, **options)


_FOLDER_KEYS = ("image_dir", "label_dir", "image_suffix", "label_suffix", "image_ext", "label_ext", "region_dir",
                "region_suffix")  # fmt: skip

#: layout name -> (reader(root, class_set, unpaired, **options) -> {split: PairedDatastore}, option names)
LAYOUTS: dict[str, tuple[Callable[..., dict[str, PairedDatastore]], tuple[str, ...]]] = {
    "camvid": (_camvid, ()),
    "cityscapes": (_cityscapes, ("label_type", "annotations")),
    "pascal-voc": (_voc, ("labels",)),
    "cvat-mask-1.1": (_cvat, ("images", "tolerance")),
    "labelme": (_labelme, ()),
    "coco": (_coco, ("annotations", "images")),
    "label-studio": (_label_studio, ("annotations", "images")),
    "generic": (_generic, ("image_dir", "label_dir", "label_suffix")),
    "nested": (_folders(True, image_dir="images", label_dir="masks"), _FOLDER_KEYS),
    "beside": (_folders(False, image_dir=".", label_dir="."), _FOLDER_KEYS),
    "suffix": (_folders(False), _FOLDER_KEYS),
    "class_folders": (_class_folders, ("image_dir", "label_dir", "label_suffix", "threshold")),
}


def layout_options(layout: str) -> tuple[str, ...]:
    """The option names of ``layout``. Raises ConfigurationError for an unknown layout."""
    if layout not in LAYOUTS:
        raise ConfigurationError(f"unknown layout {layout!r}{did_you_mean(layout, LAYOUTS)}; layouts: {', '.join(LAYOUTS)}")
    return LAYOUTS[layout][1]


def open_layout(
    root: str | os.PathLike,
    layout: str,
    class_set: ClassSet | str | os.PathLike | None = None,
    unpaired: str = "error",
    **options: Any,
) -> dict[str, PairedDatastore]:
    """Read ``root`` in the named layout with its options (see the module doc).

    Args:
        root: the dataset folder. layout: a name of :data:`LAYOUTS`.
        class_set: a ClassSet or class file; default the layout's own classes (or its class file).
        unpaired: as for :func:`~pixelseg.data.combine`.

    Returns:
        ``{split: PairedDatastore}`` (``{"all": ...}`` without splits).

    Raises:
        ConfigurationError: an unknown layout or option (naming the nearest valid one).
        DataError: as the layout's reader.
    """
    valid = layout_options(layout)
    for key in options:
        if key not in valid:
            raise ConfigurationError(
                f"layout {layout!r} has no option {key!r}{did_you_mean(key, valid)} (options: {', '.join(valid) or 'none'})"
            )
    if class_set is not None and not isinstance(class_set, ClassSet):
        class_set = ClassSet.load(Path(class_set))
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} does not exist" if not root.exists() else f"{root} is not a folder")
    return LAYOUTS[layout][0](root, class_set, unpaired, **options)
