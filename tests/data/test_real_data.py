"""Reading the real data in ../shared/data (skipped when absent; CI always has it)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import (
    VOID,
    ClassSet,
    ImageDatastore,
    PixelLabelDatastore,
    combine,
    count_each_label,
    read_label_raw,
)
from pixelseg.data.formats import (
    camvid_class_set,
    cityscapes_class_set,
    detect_layout,
    labelme_class_set,
    read_camvid,
    read_cityscapes,
    read_labelme,
    read_voc,
)
from pixelseg.errors import DataError

CAMVID_TRAIN_PIXELS = [
    10682767, 14750079, 623349, 20076880, 2845085, 6166762, 743859, 714595, 3719877, 405385, 184967
]


def test_camvid_layout_and_first_pair(shared_data):
    splits = read_camvid(shared_data / "camvid")
    assert sorted(splits) == ["train", "val"]
    assert len(splits["train"]) == 367 and len(splits["val"]) == 101
    image, label = splits["train"][0]
    assert image.shape == (360, 480, 3) and image.dtype == np.uint8
    assert label.shape == (360, 480) and label.dtype == np.uint8
    raw = read_label_raw(splits["train"].labels.files[0])
    np.testing.assert_array_equal(label, np.where(raw == 11, VOID, raw))
    assert splits["train"].class_set == camvid_class_set()


@pytest.mark.slow
def test_camvid_counts_match_source(shared_data):
    """count_each_label over train reproduces the pixel counts listed in camvid/SOURCE.md of the shared data."""
    train = read_camvid(shared_data / "camvid", splits=("train",))["train"]
    table = count_each_label(train)
    assert table["pixel_count"].tolist() == CAMVID_TRAIN_PIXELS
    assert (table["image_pixel_count"] <= 367 * 360 * 480).all()
    assert table["image_pixel_count"][3] == 367 * 360 * 480  # Road is in every image


def test_isbi_0_255_masks(shared_data):
    root = shared_data / "isbi_membrane" / "train"
    classes = ClassSet(["membrane", "cell"], label_ids=[0, 255])
    ds = combine(ImageDatastore(root / "image"), PixelLabelDatastore(root / "label", classes))
    assert len(ds) == 30 and ds.pair_names[:3] == ["0", "1", "2"]
    image, label = ds[0]
    assert image.shape == (512, 512, 3) and (image[..., 0] == image[..., 2]).all()  # grey -> 3 channels
    assert set(np.unique(label).tolist()) == {0, 1}
    assert 0.6 < label.mean() < 0.95  # about 78 % cell interior
    with pytest.raises(DataError, match=r"255: \d+ pixels"):
        PixelLabelDatastore(root / "label", ClassSet(["membrane", "cell"])).read(0)


def test_voc_palette_pngs_and_npy(shared_data):
    root = shared_data / "voc_format_sample" / "data_dataset_voc"
    ds = read_voc(root)["all"]
    assert ds.pair_names == ["2011_000003", "2011_000006", "2011_000025"]
    expected = [{0, 5, 15, 255}, {0, 9, 15, 18, 255}, {0, 6, 7}]
    for (image, label), values in zip(ds, expected, strict=True):
        assert set(np.unique(label).tolist()) == values
        assert image.shape[:2] == label.shape
    npy = read_voc(root, labels="SegmentationClassNpy")["all"]
    for i in range(3):
        np.testing.assert_array_equal(npy[i][1], ds[i][1])  # -1 in .npy == 255 in PNG == VOID
    assert ds.class_set.names[0] == "_background_" and ds.class_set.num_classes == 21


def test_labelme_json_matches_voc_export(shared_data):
    root = shared_data / "voc_format_sample"
    ds = read_labelme(root / "data_annotated", labelme_class_set(root / "labels.txt"))
    voc = read_voc(root / "data_dataset_voc")["all"]
    assert ds.pair_names == voc.pair_names
    for i in range(3):
        ours, theirs = ds.labels.read(i), voc.labels.read(i)
        # labelme2voc made the PNGs from these JSONs; rasterisation may differ by a pixel
        assert (ours != theirs).mean() < 1e-4
        assert set(np.unique(ours).tolist()) == set(np.unique(theirs).tolist())


def test_import_labelme_writes_palette_pngs(shared_data, tmp_path):
    from pixelseg.data.formats import import_labelme

    root = shared_data / "voc_format_sample"
    written = import_labelme(root / "data_annotated", tmp_path / "out", labelme_class_set(root / "labels.txt"))
    assert [p.name for p in written] == ["2011_000003.png", "2011_000006.png", "2011_000025.png"]
    assert Image.open(written[0]).mode == "P"
    assert set(np.unique(read_label_raw(written[0])).tolist()) == {0, 5, 15, 255}


def test_cityscapes_label_ids_to_train_ids(shared_data):
    root = shared_data / "format_zoo" / "pseudo_cityscapes_dataset"
    ds = read_cityscapes(root)["val"]
    assert ds.pair_names == ["frankfurt_000000_000294"]
    image, label = ds[0]
    assert image.shape == (128, 256, 3)
    label_ids = read_label_raw(ds.labels.files[0])
    train_ids = read_label_raw(str(ds.labels.files[0]).replace("_labelIds", "_labelTrainIds"))
    # for every label id, the train id the dataset's own file uses most often is ours
    for lid in np.unique(label_ids):
        values, counts = np.unique(train_ids[label_ids == lid], return_counts=True)
        assert label[label_ids == lid][0] == values[np.argmax(counts)]
    assert (label == train_ids).mean() > 0.99
    np.testing.assert_array_equal(
        cityscapes_class_set("labelTrainIds").encode(train_ids), train_ids
    )


def test_format_zoo_variants(shared_data):
    zoo = shared_data / "format_zoo"
    # REFUGE: RGB PNG with R = G = B read through a grey class set
    refuge = PixelLabelDatastore(zoo / "pseudo_refuge_dataset" / "ann_dir", ClassSet(["bg", "cup", "disc"]))
    assert set(np.unique(refuge.read(0)).tolist()) == {0, 1, 2}
    # Mapillary: palette PNGs read as indices
    raw = read_label_raw(zoo / "pseudo_mapillary_dataset" / "v2.0" / "__CRyFzoDOXn6unQ6a3DnQ.png")
    assert set(np.unique(raw).tolist()) == {27, 84, 85}
    # LoveDA: 0 = no-data (void), 1..7 classes
    loveda = ClassSet(["background", "building", "road", "water", "barren", "forest", "agricultural"],
                      label_ids=list(range(1, 8)), void_ids=[0])  # fmt: skip
    ds = combine(ImageDatastore(zoo / "pseudo_loveda_dataset" / "img_dir"),
                 PixelLabelDatastore(zoo / "pseudo_loveda_dataset" / "ann_dir", loveda))  # fmt: skip
    assert ds.pair_names == ["0", "1", "2"] and ds[0][1].max() <= 6
    # Cityscapes 16-bit instance ids at full depth
    inst = read_label_raw(next((zoo / "pseudo_cityscapes_dataset").rglob("*_instanceIds.png")))
    assert inst.dtype == np.uint16 and 26001 in np.unique(inst)


@pytest.mark.parametrize(
    "folder, name",
    [
        ("camvid", "camvid"),
        ("voc_format_sample/data_dataset_voc", "pascal-voc"),
        ("voc_format_sample/data_annotated", "labelme"),
        ("format_zoo/pseudo_cityscapes_dataset", "cityscapes"),
        ("format_zoo/pseudo_potsdam_dataset", "generic"),
        ("isbi_membrane/train", "generic"),
    ],
)
def test_detect_layout(shared_data, folder, name):
    assert detect_layout(shared_data / folder).name == name


def test_inspect_isbi_with_a_class_file(shared_data, tmp_path):
    from pixelseg.data.report import inspect_dataset

    classes = ClassSet(["membrane", "cell"], label_ids=[0, 255])
    classes.save(tmp_path / "classes.json")
    report = inspect_dataset(shared_data / "isbi_membrane" / "train", tmp_path / "classes.json")
    assert report.problems == []
    table = report.splits[0].table
    assert table["name"].tolist() == ["membrane", "cell"]
    assert table["pixel_count"].sum() == 30 * 512 * 512 and table["image_count"].tolist() == [30, 30]
    # without classes: the raw values are listed
    raw = inspect_dataset(shared_data / "isbi_membrane" / "train").splits[0].table
    assert raw["raw_value"].tolist() == ["0", "255"]
