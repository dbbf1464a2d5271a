"""Losses against PyTorch references and hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from pixelseg.errors import ConfigurationError
from pixelseg.training import CrossEntropyLoss, DiceLoss, FocalLoss, OhemCrossEntropyLoss, WeightedSumLoss, build_loss


@pytest.fixture()
def batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 4, 5, generator=g, requires_grad=True)
    target = torch.randint(0, 3, (2, 4, 5), generator=g)
    target[0, 0] = 255
    return logits, target


def test_cross_entropy_matches_torch_with_weights_and_void(batch):
    logits, target = batch
    w = torch.tensor([1.0, 2.0, 0.5])
    expected = F.cross_entropy(logits, target, weight=w, ignore_index=255)
    assert torch.allclose(CrossEntropyLoss(w)(logits, target), expected)
    assert torch.allclose(CrossEntropyLoss()(logits, target), F.cross_entropy(logits, target, ignore_index=255))


def test_void_pixels_do_not_change_the_loss(batch):
    logits, target = batch
    changed = logits.detach().clone()
    changed[0, :, 0] = 100.0  # row 0 of image 0 is void
    assert torch.allclose(CrossEntropyLoss()(changed, target), CrossEntropyLoss()(logits, target))


@pytest.mark.parametrize("loss", [CrossEntropyLoss(), FocalLoss(), DiceLoss(), CrossEntropyLoss([1.0, 2.0, 3.0]),
                                  OhemCrossEntropyLoss()])
def test_all_void_batch_gives_zero_and_finite_gradient(loss):
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    target = torch.full((1, 2, 2), 255)
    value = loss(logits, target)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(logits.grad).all()
    if not isinstance(loss, DiceLoss):
        assert value.item() == 0.0


def test_focal_with_gamma_zero_is_cross_entropy(batch):
    logits, target = batch
    w = torch.tensor([1.0, 2.0, 0.5])
    assert torch.allclose(FocalLoss(0.0)(logits, target), CrossEntropyLoss()(logits, target), atol=1e-6)
    assert torch.allclose(FocalLoss(0.0, w)(logits, target), CrossEntropyLoss(w)(logits, target), atol=1e-6)


def test_focal_single_pixel_by_hand():
    logits = torch.tensor([[[[0.0]], [[math.log(3.0)]]]])  # p = (1/4, 3/4)
    target = torch.tensor([[[1]]])
    expected = -((1 - 0.75) ** 2) * math.log(0.75)
    assert FocalLoss(2.0)(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_dice_by_hand():
    # Two pixels, two classes; softmax probabilities (0.5, 0.5) everywhere; truth (0, 1).
    logits = torch.zeros(1, 2, 1, 2)
    target = torch.tensor([[[0, 1]]])
    # per class: intersection 0.5, sum p = 1, sum g = 1 -> dice = (1 + 1) / (2 + 1) = 2/3
    assert DiceLoss(smooth=1.0)(logits, target).item() == pytest.approx(1 - 2 / 3, rel=1e-6)
    confident = torch.tensor([[[[50.0, -50.0]], [[-50.0, 50.0]]]])
    assert DiceLoss(smooth=0.0)(confident, target).item() == pytest.approx(0.0, abs=1e-6)


def test_weighted_sum(batch):
    logits, target = batch
    loss = build_loss({"cross-entropy": 1.0, "dice": 0.5})
    assert isinstance(loss, WeightedSumLoss)
    expected = CrossEntropyLoss()(logits, target) + 0.5 * DiceLoss()(logits, target)
    assert torch.allclose(loss(logits, target), expected)
    assert isinstance(build_loss("focal", focal_gamma=1.0), FocalLoss)


def test_build_loss_errors():
    with pytest.raises(ConfigurationError, match="hinge"):
        build_loss("hinge")
    with pytest.raises(ConfigurationError, match="4 entries.*3 classes"):
        build_loss("cross-entropy", class_weights=[1, 1, 1, 1], num_classes=3)
    with pytest.raises(ConfigurationError, match="finite"):
        build_loss("cross-entropy", class_weights=[1, float("nan"), 1], num_classes=3)


@pytest.mark.parametrize("weights, problem", [
    ([0.0, 0.0, 0.0], r"sum to 0 \(\[0\.0, 0\.0, 0\.0\]\)"),  # the attack: loss 0 at every step, exit 0
    ([1.0, -1.0, 1.0], r">= 0, got \[1\.0, -1\.0, 1\.0\]"),
    ([1.0, float("inf"), 1.0], r"finite.*inf"),
    (["a", "b", "c"], r"K numbers.*'a'"),
])
@pytest.mark.parametrize("name", ["cross-entropy", "dice", "focal"])
def test_class_weights_that_weigh_nothing_are_refused_with_their_values(weights, problem, name):
    with pytest.raises(ConfigurationError, match=problem):
        build_loss(name, class_weights=weights, num_classes=3)


def _ohem_batch():
    """Four pixels of two classes: (a) p_true 0.5, (b) 0.9, (c) 0.1 (true class 1), (d) void."""
    ln9 = math.log(9.0)
    logits = torch.tensor([[[[0.0, ln9, ln9, 5.0]], [[0.0, 0.0, 0.0, 0.0]]]], requires_grad=True)  # 1 x 2 x 1 x 4
    target = torch.tensor([[[0, 0, 1, 255]]])
    return logits, target


def test_ohem_keeps_the_hard_pixels_or_the_hardest_fraction():
    logits, target = _ohem_batch()
    ln2, ln10, ln10_9 = math.log(2), math.log(10), math.log(10 / 9)
    # threshold 0.7: (a) and (c) are hard -> mean(ln 2, ln 10) = 1.4979; (b) gets no gradient
    loss = OhemCrossEntropyLoss()(logits, target)
    assert loss.item() == pytest.approx((ln2 + ln10) / 2)
    loss.backward()
    assert logits.grad[0, :, 0, 1].abs().sum() == 0 and logits.grad[0, :, 0, 0].abs().sum() > 0
    # all labelled pixels kept: plain cross-entropy
    assert OhemCrossEntropyLoss(min_kept=1.0)(logits, target).item() == pytest.approx((ln2 + ln10_9 + ln10) / 3)
    assert OhemCrossEntropyLoss(min_kept=1.0)(logits, target).item() == pytest.approx(
        F.cross_entropy(logits, target, ignore_index=255).item())
    # nothing under a threshold of 0.05: the hardest third of the 3 labelled pixels, (c)
    assert OhemCrossEntropyLoss(0.05, 1 / 3)(logits, target).item() == pytest.approx(ln10)
    # class weights as in CrossEntropyLoss: (1 * ln 2 + 3 * ln 10) / (1 + 3)
    assert OhemCrossEntropyLoss(class_weights=[1.0, 3.0])(logits, target).item() == pytest.approx(
        (ln2 + 3 * ln10) / 4)
    assert build_loss("ohem", ohem_threshold=0.05, ohem_min_kept=1 / 3)(logits, target).item() == pytest.approx(ln10)
    with pytest.raises(ConfigurationError, match=r"ohem_threshold must be in \(0, 1\], got 0"):
        OhemCrossEntropyLoss(threshold=0)
    with pytest.raises(ConfigurationError, match="ohem_min_kept"):
        OhemCrossEntropyLoss(min_kept=1.5)


@pytest.mark.parametrize("name", ["cross-entropy", "dice", "focal", "ohem", "mixed"])
def test_a_bad_label_map_is_a_data_error_saying_what_is_wrong(name):
    """A target value that is neither a class nor void (7 for 3 classes) gave PyTorch's
    "Target 7 is out of bounds" (or an index error deep in gather / one_hot)."""
    from pixelseg.errors import DataError

    loss = build_loss({"cross-entropy": 1.0, "dice": 0.5} if name == "mixed" else name)
    logits = torch.randn(2, 3, 4, 4)
    target = torch.zeros(2, 4, 4, dtype=torch.long)
    target[1, 0, :2] = 7
    target[0, 3, 3] = -1
    with pytest.raises(DataError, match=r"neither a class index 0\.\.2 nor void \(255\): -1 \(1 pixels\), 7 \(2 pixels\)"):
        loss(logits, target)
    with pytest.raises(DataError, match=r"N x H x W matching logits .* got \(2, 5, 4\)"):
        loss(logits, torch.zeros(2, 5, 4, dtype=torch.long))
    target[target != 0] = 255
    assert torch.isfinite(loss(logits, target))  # void is fine
