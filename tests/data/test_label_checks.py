"""MATLAB .mat labels, safe snapping with one warning per dataset, and field case F11
(0/255 binary masks read with 255 as void)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.io
from PIL import Image

from pixelseg.data import ClassSet, LabelSnapWarning, PixelLabelDatastore, count_each_label, read_label
from pixelseg.data.label_checks import LabelCheckWarning, void_label_problem
from pixelseg.errors import ConfigurationError, DataError


# ---------------------------------------------------------------- .mat
def _bsds_mat(path) -> np.ndarray:
    seg = np.array([[1, 1, 2], [2, 3, 3]], np.uint16)
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = {"Segmentation": seg, "Boundaries": seg > 1}
    scipy.io.savemat(path, {"groundTruth": cell, "scale": np.zeros((1, 3))})
    return seg


def test_mat_variable_path_into_structs_and_cells(tmp_path):
    seg = _bsds_mat(tmp_path / "1.mat")
    classes = ClassSet(["a", "b", "c"], label_ids=[1, 2, 3])
    for variable in ("groundTruth/0/Segmentation", "groundTruth/Segmentation", "groundTruth.Segmentation"):
        out = PixelLabelDatastore(tmp_path, classes, mat_variable=variable).read(0)
        np.testing.assert_array_equal(out, seg - 1)
    with pytest.raises(DataError, match=r"1.mat: the .mat file has no label array at mat_variable 'labels'.*"
                                        r"groundTruth/Segmentation \(2x3 uint16\), groundTruth/Boundaries"):
        read_label(tmp_path / "1.mat", classes, mat_variable="labels")
    with pytest.raises(DataError, match=r"holds 3 H x W arrays; name the label array with mat_variable"):
        read_label(tmp_path / "1.mat", classes)
    scipy.io.savemat(tmp_path / "one.mat", {"mask": np.array([[0, 1]], dtype=bool)})
    assert read_label(tmp_path / "one.mat", ClassSet(["x", "y"])).tolist() == [[0, 1]]


def test_mat_v73_without_h5py_is_one_sentence(tmp_path):
    pytest.importorskip("scipy")
    path = tmp_path / "v73.mat"
    path.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(512, b" ") + b"\x89HDF\r\n\x1a\n" + bytes(64))
    try:
        import h5py  # noqa: F401
    except ImportError:
        with pytest.raises(DataError, match=r"v73.mat: a MATLAB v7.3 .mat file \(HDF5\) needs the h5py package"):
            read_label(path, ClassSet(["a"]))
    else:  # pragma: no cover - h5py installed: a damaged HDF5 file is a DataError naming it
        with pytest.raises(DataError, match="v73.mat"):
            read_label(path, ClassSet(["a"]))


# ---------------------------------------------------------------- snapping
WATER, ROAD = (0, 0, 255), (128, 64, 128)


def test_snapping_refuses_far_and_ambiguous_values_and_the_hint_never_misleads():
    classes = ClassSet(["water", "road"], label_ids=[WATER, ROAD])
    far = np.array([[[60, 30, 200]]], np.uint8)  # 60 from water, 68 from road: neither
    with pytest.raises(DataError) as info:
        classes.encode(far, source="f.png")
    assert "pass tolerance=" not in str(info.value) and "no tolerance would read them right" in str(info.value)
    with pytest.raises(ConfigurationError, match="tolerance 60 is above 32"):
        classes.encode(far, tolerance=60)
    grey = ClassSet(["a", "b"], label_ids=[0, 30])
    with pytest.raises(DataError, match=r"value 12 \(1 pixels\) is 12 from 'a' but 18 from 'b'; not snapped"):
        grey.encode(np.array([[12]], np.uint8), tolerance=20)
    near = np.array([[[1, 0, 254]]], np.uint8)
    with pytest.raises(DataError, match=r"pass tolerance=1 to snap them"):
        classes.encode(near)
    with pytest.warns(LabelSnapWarning):
        assert classes.encode(near, tolerance=1).tolist() == [[0]]


def test_one_snap_warning_per_dataset_and_one_summary_from_count_each_label(tmp_path):
    classes = ClassSet(["water", "road"], label_ids=[WATER, ROAD])
    mask = np.zeros((4, 4, 3), np.uint8)
    mask[:] = WATER
    mask[0, :] = (2, 0, 253)
    for i in range(6):
        Image.fromarray(mask).save(tmp_path / f"{i}.png")
    pxds = PixelLabelDatastore(tmp_path, classes, tolerance=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):  # three epochs
            for i in range(len(pxds)):
                pxds.subset([i]).read(0)
    assert len([w for w in caught if w.category is LabelSnapWarning]) == 1
    assert "snapped 24 pixels in 6 label file(s)" in pxds.snap_summary()
    with pytest.warns(LabelSnapWarning, match=r"snapped 24 pixels in 6 label file\(s\) within tolerance 2 "
                                              r"\(per class: 'water': 24 pixels\)") as record:
        count_each_label(pxds)
    assert len(record) == 1


# ---------------------------------------------------------------- F11
def _f11(root) -> None:
    (root / "JPEGImages").mkdir()
    (root / "SegmentationClass").mkdir()
    for i in range(2):
        Image.fromarray(np.full((16, 16), 80, np.uint8)).save(root / "JPEGImages" / f"{i}.jpg")
        mask = np.zeros((16, 16), np.uint8)
        mask[4:12, 4:12] = 255
        Image.fromarray(mask).save(root / "SegmentationClass" / f"{i}.png")


def test_f11_binary_masks_read_with_voc_void_warn_once_and_declaring_255_reads_right(tmp_path):
    _f11(tmp_path)
    voc = ClassSet(["background", "object"], void_ids=[255])
    pxds = PixelLabelDatastore(tmp_path / "SegmentationClass", voc)
    with pytest.warns(LabelCheckWarning, match=r"every pixel is 'background' or void: void \(stored as 255\) "
                                               r"covers 25% .*declare label_ids \[0, 255\] and no void id") as record:
        table = count_each_label(pxds)
        count_each_label(pxds)
    assert len([w for w in record if w.category is LabelCheckWarning]) == 1
    assert table["pixel_count"].tolist() == [384, 0]
    problem = void_label_problem(PixelLabelDatastore(tmp_path / "SegmentationClass", voc))
    assert problem is not None and "'object' has no pixel" in problem
    right = PixelLabelDatastore(tmp_path / "SegmentationClass", ClassSet(["background", "object"], label_ids=[0, 255]))
    assert void_label_problem(right) is None
    assert count_each_label(right)["pixel_count"].tolist() == [384, 128]


def test_f11_a_split_of_fewer_files_than_watched_still_warns(tmp_path):
    """A split (here 3 of 4 files, as training's 80/20 partition gave) kept the whole
    datastore's watch, which waits for 4 files: training on 0/255 masks read with 255 as
    void said nothing. Each split now watches its own files; a decided watch is not reopened."""
    from pixelseg.data import PairedDatastore, partition
    from pixelseg.data.datastores import ImageDatastore

    _f11(tmp_path)
    for i in (2, 3):  # four pairs
        for sub, ext in (("JPEGImages", "jpg"), ("SegmentationClass", "png")):
            (tmp_path / sub / f"{i}.{ext}").write_bytes((tmp_path / sub / f"0.{ext}").read_bytes())
    voc = ClassSet(["background", "object"], void_ids=[255])
    pairs = PairedDatastore(ImageDatastore(tmp_path / "JPEGImages"), PixelLabelDatastore(tmp_path / "SegmentationClass", voc))
    train, _ = partition(pairs, (0.75, 0.25), seed=0)
    assert len(train) == 3
    with pytest.warns(LabelCheckWarning, match=r"in 3 label file\(s\) read .* 'object' has no pixel"):
        count_each_label(train)
    whole = PixelLabelDatastore(tmp_path / "SegmentationClass", voc)
    with pytest.warns(LabelCheckWarning):
        count_each_label(whole)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelCheckWarning)
        count_each_label(whole.subset([0, 1]))  # the parent already warned: no second warning
