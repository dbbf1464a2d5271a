"""Augmenter: joint geometry, exact labels, void fill, reproducibility, batches and workers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixelseg.data import VOID, Augmenter
from pixelseg.errors import ConfigurationError


def _blocks(h=24, w=32, n=None):
    """Label of 4 x 4 constant blocks with values 0..5; image channel = label / 10."""
    g = torch.Generator().manual_seed(0)
    shape = (h // 4, w // 4) if n is None else (n, h // 4, w // 4)
    coarse = torch.randint(0, 6, shape, generator=g)
    label = coarse.repeat_interleave(4, -2).repeat_interleave(4, -1)
    image = (label.float() / 10).unsqueeze(-3).repeat_interleave(3, -3) if n is None else (
        label.float() / 10
    ).unsqueeze(1).repeat(1, 3, 1, 1)
    return image, label


def test_flip_is_exact_and_none_is_identity():
    image, label = _blocks()
    flipped_image, flipped_label = Augmenter("none", flip=1.0, seed=0)(image, label)
    assert torch.equal(flipped_label, label.flip(-1))
    assert torch.allclose(flipped_image, image.flip(-1), atol=1e-6)
    same_image, same_label = Augmenter("none", seed=0)(image, label)
    assert torch.equal(same_label, label) and torch.allclose(same_image, image)


@pytest.mark.parametrize("preset", ["default", "strong"])
def test_labels_stay_exact_and_aligned_with_the_image(preset):
    image, label = _blocks()
    aug = Augmenter(preset, crop_size=(20, 28), seed=5, brightness=0, contrast=0, saturation=0, hue=0)
    for _ in range(5):
        out_image, out_label = aug(image, label)
        assert out_image.shape == (3, 20, 28) and out_label.shape == (20, 28)
        assert out_label.dtype == torch.int64
        assert set(out_label.unique().tolist()) <= set(range(6)) | {VOID}  # never in-between
        valid = out_label != VOID
        # image and label moved together: inside blocks the image value is label / 10
        agree = (out_image[0][valid] * 10 - out_label[valid].float()).abs() < 0.05
        assert agree.float().mean() > 0.6


def test_zoom_out_fills_label_with_void_and_image_with_zero():
    image, label = _blocks()
    out_image, out_label = Augmenter("none", scale=(0.5, 0.5), seed=0)(image, label)
    assert out_label[0, 0] == VOID and out_label[-1, -1] == VOID
    assert out_image[:, 0, 0].abs().max() == 0
    assert (out_label[10:14, 14:18] != VOID).all()


def test_reproducible_under_a_seed_and_varies_between_calls():
    image, label = _blocks()
    a, b = Augmenter("strong", seed=11), Augmenter("strong", seed=11)
    first_a, first_b = a(image, label), b(image, label)
    assert torch.equal(first_a[1], first_b[1]) and torch.equal(first_a[0], first_b[0])
    second = a(image, label)
    assert not torch.equal(second[0], first_a[0])
    torch.manual_seed(3)
    x = Augmenter("strong")(image, label)
    torch.manual_seed(3)
    y = Augmenter("strong")(image, label)
    assert torch.equal(x[0], y[0])


def test_batches_get_their_own_parameters():
    image, label = _blocks(n=4)
    image = image.repeat(1, 1, 1, 1)
    label[:] = label[0]
    image[:] = image[0]
    out_image, out_label = Augmenter("strong", seed=2)(image, label)
    assert out_image.shape == image.shape and out_label.shape == label.shape
    assert not all(torch.equal(out_label[0], out_label[i]) for i in range(1, 4))


def test_numpy_input_and_bad_input():
    image = np.zeros((8, 8, 3), np.uint8)
    label = np.zeros((8, 8), np.uint8)
    out_image, out_label = Augmenter("default", seed=0)(image, label)
    assert out_image.shape == (3, 8, 8) and out_image.dtype == torch.float32
    assert out_label.dtype == torch.int64
    with pytest.raises(ConfigurationError, match="same size"):
        Augmenter()(torch.zeros(3, 8, 8), torch.zeros(8, 7, dtype=torch.int64))
    with pytest.raises(ConfigurationError, match="preset"):
        Augmenter("wild")
    with pytest.raises(ConfigurationError, match="unknown options"):
        Augmenter(zoom=2)
    with pytest.raises(ConfigurationError, match="scale"):
        Augmenter(scale=(2, 1))


def test_in_dataloader_workers(tmp_path):
    from PIL import Image

    from pixelseg.data import ClassSet, ImageDatastore, PixelLabelDatastore, combine

    (tmp_path / "i").mkdir()
    (tmp_path / "l").mkdir()
    for k in range(4):
        Image.fromarray(np.full((8, 8, 3), 50, np.uint8)).save(tmp_path / "i" / f"{k}.png")
        Image.fromarray(np.full((8, 8), k % 2, np.uint8)).save(tmp_path / "l" / f"{k}.png")
    ds = combine(ImageDatastore(tmp_path / "i"), PixelLabelDatastore(tmp_path / "l", ClassSet(["a", "b"])))
    ds = ds.as_tensors().transform(Augmenter("default", crop_size=(6, 6), seed=0))
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2)
    images, labels = next(iter(loader))
    assert images.shape == (2, 3, 6, 6) and labels.shape == (2, 6, 6)
