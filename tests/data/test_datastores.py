"""ImageDatastore, PixelLabelDatastore, combine/PairedDatastore."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from pixelseg.data import (
    VOID,
    ClassSet,
    ImageDatastore,
    PairedDatastore,
    PixelLabelDatastore,
    Resize,
    combine,
)
from pixelseg.errors import ConfigurationError, DataError

CLASSES = ClassSet(["background", "thing", "other"], void_ids=[255])


def _make(tmp_path, n=5, size=(6, 8), label_suffix=""):
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir(exist_ok=True)
    labels.mkdir(exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((*size, 3), i, np.uint8)).save(images / f"im{i}.png")
        label = np.full(size, i % 3, np.uint8)
        label[0, 0] = 255
        Image.fromarray(label).save(labels / f"im{i}{label_suffix}.png")
    return images, labels


def test_image_datastore_is_lazy_and_natural_sorted(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ["b10.png", "b2.png", "b1.jpg", ".hidden.png", "notes.txt"]:
        (folder / name).write_bytes(b"")  # empty files: listing must not open them
    imds = ImageDatastore(folder)
    assert [p.name for p in imds.files] == ["b1.jpg", "b2.png", "b10.png"]
    assert len(imds) == 3
    assert [p.name for p in ImageDatastore(folder, file_extensions=["png"]).files] == ["b2.png", "b10.png"]


def test_subfolders_globs_and_lists(tmp_path):
    (tmp_path / "a" / "deep").mkdir(parents=True)
    for p in ["a/x1.png", "a/deep/x2.png"]:
        Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / p)
    assert len(ImageDatastore(tmp_path / "a")) == 1
    assert len(ImageDatastore(tmp_path / "a", include_subfolders=True)) == 2
    assert len(ImageDatastore(str(tmp_path / "a" / "*.png"))) == 1
    explicit = ImageDatastore([tmp_path / "a/deep/x2.png", tmp_path / "a/x1.png"])
    assert [p.name for p in explicit.files] == ["x2.png", "x1.png"]  # given order kept
    with pytest.raises(FileNotFoundError, match="missing"):
        ImageDatastore(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files"):
        ImageDatastore(tmp_path / "empty")


def test_read_iter_subset_shuffle(tmp_path):
    images, labels = _make(tmp_path)
    imds = ImageDatastore(images)
    assert imds.read(3)[0, 0, 0] == 3
    assert [im[0, 0, 0] for im in imds] == [0, 1, 2, 3, 4]
    sub = imds.subset([4, 0])
    assert isinstance(sub, ImageDatastore) and [p.name for p in sub.files] == ["im4.png", "im0.png"]
    assert len(imds.subset(np.array([True, False, True, False, False]))) == 2
    a, b = imds.shuffle(7), imds.shuffle(7)
    assert a.files == b.files and sorted(a.files) == sorted(imds.files)
    assert imds.shuffle(1).files != imds.files or imds.shuffle(2).files != imds.files
    with pytest.raises(ConfigurationError, match="out of range"):
        imds.subset([9])
    with pytest.raises(IndexError):
        imds.read(5)


def test_pixel_label_datastore_reads_indices(tmp_path):
    _, labels = _make(tmp_path)
    pxds = PixelLabelDatastore(labels, CLASSES)
    out = pxds.read(4)
    assert out.dtype == np.uint8 and out[0, 0] == VOID and out[1, 1] == 1
    assert pxds.class_set is CLASSES
    names = PixelLabelDatastore(labels, ["bg", "thing", "other"], void_ids=[255])
    np.testing.assert_array_equal(names.read(4), out)
    CLASSES.save(tmp_path / "classes.json")
    assert PixelLabelDatastore(labels, tmp_path / "classes.json").class_set == CLASSES


def test_custom_read_fn(tmp_path):
    images, labels = _make(tmp_path, n=2)
    imds = ImageDatastore(images, read_fn=lambda p: np.zeros((6, 8, 3), np.uint8) + 9)
    assert imds.read(0)[0, 0, 0] == 9
    pxds = PixelLabelDatastore(labels, CLASSES, read_fn=lambda p: np.full((6, 8), 2))
    assert (pxds.read(1) == 2).all()


def test_combine_and_paired_behaviour(tmp_path):
    images, labels = _make(tmp_path, label_suffix="_mask")
    ds = combine(ImageDatastore(images), PixelLabelDatastore(labels, CLASSES), label_suffix="_mask")
    assert isinstance(ds, torch.utils.data.Dataset) and isinstance(ds, PairedDatastore)
    assert len(ds) == 5 and ds.class_set == CLASSES
    image, label = ds[2]
    assert image.shape == (6, 8, 3) and image.dtype == np.uint8 and label.shape == (6, 8)
    assert image[0, 0, 0] == 2 and label[1, 1] == 2
    assert ds.pair_names == ["im0", "im1", "im2", "im3", "im4"]
    sub = ds.subset([3, 1])
    assert sub.pair_names == ["im3", "im1"] and sub[0][0][0, 0, 0] == 3

    tensors = ds.as_tensors()
    image, label = tensors[2]
    assert image.shape == (3, 6, 8) and image.dtype == torch.float32
    assert label.dtype == torch.int64 and label[0, 0] == 255
    assert torch.allclose(image[0, 0, 0], torch.tensor(2 / 255))

    def flip(im, lb):
        return im.flip(-1), lb.flip(-1)

    flipped = tensors.transform(flip)[2]
    assert flipped[1][0, -1] == 255 and len(tensors.transforms) == 1  # original untouched
    resized = ds.transform(Resize((3, 4)))[0]
    assert resized[0].shape == (3, 4, 3) and resized[1].shape == (3, 4)


def test_size_mismatch_names_both_files_and_sizes(tmp_path):
    images, labels = _make(tmp_path, n=2)
    Image.fromarray(np.zeros((5, 8), np.uint8)).save(labels / "im1.png")
    ds = combine(ImageDatastore(images), PixelLabelDatastore(labels, CLASSES))
    ds[0]
    with pytest.raises(DataError) as info:
        ds[1]
    message = str(info.value)
    assert "im1.png" in message and "6 x 8" in message and "5 x 8" in message
    assert str(images / "im1.png") in message and str(labels / "im1.png") in message
    problems = ds.check_sizes()
    assert len(problems) == 1 and "5 x 8" in problems[0]


def test_combine_options(tmp_path):
    images, labels = _make(tmp_path, n=3)
    imds, pxds = ImageDatastore(images), PixelLabelDatastore(labels, CLASSES)
    (labels / "im1.png").unlink()
    pxds2 = PixelLabelDatastore(labels, CLASSES)
    assert len(combine(imds, pxds2, unpaired="ignore")) == 2
    with pytest.raises(ConfigurationError, match="unpaired"):
        combine(imds, pxds, unpaired="maybe")
    with pytest.raises(DataError, match="3 images but 2"):
        combine(imds, pxds2, match="order")
    by_order = combine(imds.subset([0, 2]), pxds2, match="order")
    assert len(by_order) == 2
    dup = ImageDatastore([images / "im0.png", images / "im0.png"])
    with pytest.raises(DataError, match="both have the name 'im0'"):
        combine(dup, pxds)


def test_dataloader_with_worker_processes(tmp_path):
    images, labels = _make(tmp_path, n=4)
    ds = combine(ImageDatastore(images), PixelLabelDatastore(labels, CLASSES)).as_tensors()
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2)
    batches = list(loader)
    assert len(batches) == 2
    assert batches[0][0].shape == (2, 3, 6, 8) and batches[0][1].shape == (2, 6, 8)
    assert batches[1][1].dtype == torch.int64


def test_concatenate_keeps_pairs_regions_and_refuses_what_differs(tmp_path):
    """Retraining on train + val joins two splits: pairs in order, regions with their pairs,
    and a clear error for datastores that read otherwise or share a pair name."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a_images, a_labels = _make(tmp_path / "a", n=3)
    a = combine(ImageDatastore(a_images), PixelLabelDatastore(a_labels, CLASSES))
    b_images, b_labels = _make(tmp_path / "b", n=5)
    b = combine(ImageDatastore(b_images), PixelLabelDatastore(b_labels, CLASSES)).subset([3, 4])
    region = tmp_path / "region.png"
    mask = np.zeros((6, 8), np.uint8)
    mask[:, :4] = 1
    Image.fromarray(mask).save(region)
    joined = a.concatenate(b.with_regions(region))
    assert joined.pair_names == ["im0", "im1", "im2", "im3", "im4"] and len(joined) == 5
    assert [f.parent.parent.name for f in joined.labels.files] == ["a", "a", "a", "b", "b"]
    assert joined.region_files == [None, None, None, region, region]
    image, label = joined[3]
    assert image[0, 0, 0] == 3 and label[1, 1] == 0 and label[1, 6] == VOID  # right half outside b's region
    assert (joined[0][1] != VOID).sum() == 6 * 8 - 1 and len(a) == 3  # a untouched, no region
    assert joined.subset([4]).pair_names == ["im4"] and joined.shuffle(0).class_set == CLASSES

    with pytest.raises(DataError, match=r"concatenate: .*a/images/im0.png and .*b/images/im0.png both have the name 'im0'"):
        a.concatenate(combine(ImageDatastore(b_images), PixelLabelDatastore(b_labels, CLASSES)))
    other_classes = combine(ImageDatastore(b_images), PixelLabelDatastore(b_labels, ["x", "y", "z"])).subset([4])
    with pytest.raises(ConfigurationError, match="read their files differently: class_set"):
        a.concatenate(other_classes)
    tolerant = combine(ImageDatastore(b_images), PixelLabelDatastore(b_labels, CLASSES, tolerance=3)).subset([4])
    with pytest.raises(ConfigurationError, match=r"reading options is \{\} in one and \{'tolerance': 3\}"):
        a.concatenate(tolerant)
    grey = combine(ImageDatastore(b_images, channels=1), PixelLabelDatastore(b_labels, CLASSES)).subset([4])
    with pytest.raises(ConfigurationError, match="channels is 3 in one and 1 in the other"):
        a.concatenate(grey)
    with pytest.raises(ConfigurationError, match="other transforms"):
        a.concatenate(b.as_tensors())
    with pytest.raises(ConfigurationError, match="expected PairedDatastores, got ImageDatastore"):
        a.concatenate(ImageDatastore(b_images))
