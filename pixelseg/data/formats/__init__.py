"""Readers for the folder layouts and label formats people have: CamVid (SegNet and the
original 32-class colour masks), Pascal VOC, Cityscapes, a generic images/ + labels/ +
classes.json layout, importers for labelme JSON polygons and CVAT "Segmentation mask
1.1" exports, and COCO and Label Studio JSON exports drawn as label maps. :func:`detect_layout` recognises a folder's layout."""

from pixelseg.data.formats.camvid import camvid_class_set, camvid_rgb_class_set, read_camvid, read_camvid_rgb
from pixelseg.data.formats.cityscapes import cityscapes_class_set, read_cityscapes
from pixelseg.data.formats.coco import coco_class_set, read_coco
from pixelseg.data.formats.cvat import read_cvat, read_labelmap
from pixelseg.data.formats.detect import DetectedLayout, detect_layout
from pixelseg.data.formats.generic import read_generic
from pixelseg.data.formats.label_studio import label_studio_class_set, read_label_studio
from pixelseg.data.formats.labelme import import_labelme, labelme_class_set, labelme_datastore, read_labelme
from pixelseg.data.formats.voc import read_voc, voc_class_set

__all__ = [
    "camvid_class_set",
    "camvid_rgb_class_set",
    "read_camvid",
    "read_camvid_rgb",
    "cityscapes_class_set",
    "read_cityscapes",
    "coco_class_set",
    "read_coco",
    "label_studio_class_set",
    "read_label_studio",
    "read_cvat",
    "read_labelmap",
    "read_generic",
    "import_labelme",
    "labelme_class_set",
    "labelme_datastore",
    "read_labelme",
    "read_voc",
    "voc_class_set",
    "DetectedLayout",
    "detect_layout",
]
