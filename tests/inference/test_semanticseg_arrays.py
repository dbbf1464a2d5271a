"""semanticseg on arrays and tensors: labels, scores, batches, TTA, channel checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference import semanticseg

from .conftest import ShapeRecorder, TinyConvNet, expected_dominant


def test_one_image_gives_uint8_label_map(dominant_net, rgb_images):
    labels = semanticseg(rgb_images[0], dominant_net, device="cpu")
    assert labels.dtype == np.uint8 and labels.shape == (12, 16)
    assert np.array_equal(labels, expected_dominant(rgb_images[0]))


def test_eval_mode_inside_and_training_mode_restored(dominant_net, rgb_images):
    dominant_net.train()
    labels = semanticseg(rgb_images[0], dominant_net, device="cpu")
    # In train mode BatchNorm would normalise each channel to zero mean and change the answer.
    assert np.array_equal(labels, expected_dominant(rgb_images[0]))
    assert dominant_net.training


def test_scores_are_softmax_of_logits(rgb_images):
    net = TinyConvNet().eval()
    image = rgb_images[1]
    labels, score, all_scores = semanticseg(image, net, return_scores=True, all_scores=True, device="cpu")
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    probs = net(x).softmax(1)[0].detach().numpy()
    assert all_scores.shape == (4, 12, 16) and all_scores.dtype == np.float32
    np.testing.assert_allclose(all_scores, probs, atol=1e-6)
    np.testing.assert_allclose(score, probs.max(0), atol=1e-6)
    assert np.array_equal(labels, probs.argmax(0))
    only_all = semanticseg(image, net, all_scores=True, device="cpu")
    assert isinstance(only_all, tuple) and len(only_all) == 2 and only_all[1].shape == (4, 12, 16)


def test_batch_array_and_list_of_mixed_sizes(dominant_net, rgb_images):
    batch = np.stack(rgb_images)
    out = semanticseg(batch, dominant_net, mini_batch_size=2, device="cpu")
    assert out.shape == (3, 12, 16) and out.dtype == np.uint8
    for i, image in enumerate(rgb_images):
        assert np.array_equal(out[i], expected_dominant(image))
    mixed = [rgb_images[0], rgb_images[1][:5, :7], rgb_images[2]]
    outs = semanticseg(mixed, dominant_net, device="cpu")
    assert [o.shape for o in outs] == [(12, 16), (5, 7), (12, 16)]
    assert all(np.array_equal(o, expected_dominant(m)) for o, m in zip(outs, mixed))


def test_tensor_input_float_in_unit_range(dominant_net, rgb_images):
    x = torch.from_numpy(np.stack(rgb_images)).permute(0, 3, 1, 2).float() / 255
    out = semanticseg(x, dominant_net, device="cpu")
    assert out.shape == (3, 12, 16)
    assert np.array_equal(semanticseg(x[0], dominant_net, device="cpu"), out[0])
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        semanticseg(x * 255, dominant_net, device="cpu")


def test_uint16_and_float_images_match_uint8(dominant_net, rgb_images):
    image = rgb_images[0]
    as16 = image.astype(np.uint16) * 257
    assert np.array_equal(semanticseg(as16, dominant_net, device="cpu"), expected_dominant(image))
    asf = image.astype(np.float32) / 255
    assert np.array_equal(semanticseg(asf, dominant_net, device="cpu"), expected_dominant(image))


def test_channel_count_mismatch_is_a_clear_error(dominant_net, rgb_images):
    rgba = np.dstack([rgb_images[0], np.full((12, 16), 255, np.uint8)])
    with pytest.raises(ConfigurationError, match="4 channel.*takes 3"):
        semanticseg(rgba, dominant_net, device="cpu")
    with pytest.raises(ConfigurationError, match="1 channel.*takes 3"):
        semanticseg(rgb_images[0][..., 0], dominant_net, device="cpu")


def test_tta_flip_equals_manual_average(rgb_images):
    net = TinyConvNet().eval()
    image = rgb_images[2]
    _, probs = semanticseg(image, net, all_scores=True, tta=True, device="cpu")
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        manual = (net(x).softmax(1) + net(x.flip(-1)).softmax(1).flip(-1))[0].numpy() / 2
    np.testing.assert_allclose(probs, manual, atol=1e-6)


def test_tta_scales_average_and_keep_size(rgb_images):
    net = TinyConvNet().eval()
    labels, probs = semanticseg(rgb_images[0], net, all_scores=True, tta=(0.5, 1.0), device="cpu")
    assert labels.shape == (12, 16) and probs.shape == (4, 12, 16)
    np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-5)
    with pytest.raises(ConfigurationError, match="positive"):
        semanticseg(rgb_images[0], net, tta=(0.0,), device="cpu")


def test_trained_network_like_object_is_accepted(dominant_net, rgb_images):
    class Trained:  # duck-typed TrainedNetwork
        network = dominant_net
        class_set = None

    assert np.array_equal(semanticseg(rgb_images[0], Trained(), device="cpu"), expected_dominant(rgb_images[0]))


def test_bad_arguments(dominant_net, rgb_images):
    with pytest.raises(ConfigurationError, match="net must be"):
        semanticseg(rgb_images[0], object(), device="cpu")
    with pytest.raises(ConfigurationError, match="mini_batch_size"):
        semanticseg(rgb_images[0], dominant_net, mini_batch_size=0, device="cpu")
    with pytest.raises(ConfigurationError, match="device"):
        semanticseg(rgb_images[0], dominant_net, device="tpu9")
    with pytest.raises(ConfigurationError, match="write_location"):
        semanticseg(rgb_images[0], dominant_net, write_location="x", device="cpu")
    with pytest.raises(DataError, match="dtype"):
        semanticseg(rgb_images[0].astype(np.int64), dominant_net, device="cpu")


class _HalfPlanes(torch.nn.Module):
    """Class 0 where the red channel is high, class 1 elsewhere (logits +-10)."""

    num_classes, in_channels = 2, 3

    def forward(self, x):
        red = (x[:, :1] - 0.5) * 20
        return torch.cat([red, -red], dim=1)


@pytest.mark.parametrize("tta", [False, True])
def test_input_size_resizes_for_the_network_and_labels_keep_the_image_grid(tta):
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, :27, 0] = 255  # red left part: class 0; the rest: class 1
    labels = semanticseg(image, _HalfPlanes(), input_size=(20, 30), tta=tta, device="cpu")
    assert labels.shape == (40, 60) and labels.dtype == np.uint8
    expected = np.where(np.arange(60) < 27, 0, 1)[None].repeat(40, 0)
    near_edge = np.abs(np.arange(60) - 27) <= 2  # resampling blurs the class edge by a pixel or two
    assert np.array_equal(labels[:, ~near_edge], expected[:, ~near_edge])
    recorder = ShapeRecorder()
    out = semanticseg([image, image[:30, :50]], recorder, input_size=(20, 30), device="cpu")
    assert set(recorder.seen) == {(20, 30)} and [o.shape for o in out] == [(40, 60), (30, 50)]


def test_bad_input_size_names_the_value(rgb_images):
    for bad in [(0, 10), (10,), "big", "12", (True, 3), (2.5, 3)]:
        with pytest.raises(ConfigurationError, match="input_size must look like HxW"):
            semanticseg(rgb_images[0], TinyConvNet(), input_size=bad, device="cpu")


def test_input_size_labels_do_not_depend_on_asking_for_scores(rgb_images):
    net = TinyConvNet()
    image = rgb_images[0]
    plain = semanticseg(image, net, input_size=(7, 9), device="cpu")
    labels, scores, every = semanticseg(image, net, input_size=(7, 9), return_scores=True, all_scores=True,
                                        device="cpu")
    assert np.array_equal(plain, labels)
    assert scores.shape == image.shape[:2] and every.shape == (4, *image.shape[:2])
    np.testing.assert_allclose(every.sum(0), 1.0, rtol=1e-5)


def test_input_size_with_tta_scales_resizes_once_to_the_scaled_input_size():
    recorder = ShapeRecorder()
    image = np.random.default_rng(3).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    labels = semanticseg(image, recorder, input_size=(20, 30), tta=(0.5, 1.0), device="cpu")
    assert labels.shape == (40, 60)
    assert recorder.seen == [(10, 15), (10, 15), (20, 30), (20, 30)]  # image and mirror at each scale


def test_nan_empty_and_extreme_options_are_clear_errors(dominant_net):
    """Reported from a break-it session: NaN pixels were labelled silently; an empty image,
    tta=[1e9], input_size=(1e9, 1e9) and tta="1.5" crashed inside torch or Python."""
    image = np.full((16, 16, 3), 0.5, np.float32)
    image[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="1 NaN or infinite"):
        semanticseg(image, dominant_net)
    with pytest.raises(DataError, match="NaN or infinite"):
        semanticseg(torch.full((3, 8, 8), float("nan")), dominant_net)
    with pytest.raises(DataError, match="empty: its size is 0 x 16"):
        semanticseg(np.zeros((0, 16, 3), np.uint8), dominant_net)
    for tta in ([1e9], "1.5", [0.0]):
        with pytest.raises(ConfigurationError, match="tta"):
            semanticseg(np.zeros((8, 8, 3), np.uint8), dominant_net, tta=tta)
    with pytest.raises(ConfigurationError, match="input_size"):
        semanticseg(np.zeros((8, 8, 3), np.uint8), dominant_net, input_size=(10**9, 10**9))


def test_no_images_give_empty_lists_that_unpack(dominant_net):
    assert semanticseg([], dominant_net) == []
    assert semanticseg(np.zeros((0, 8, 8, 3), np.uint8), dominant_net) == []
    labels, scores = semanticseg([], dominant_net, return_scores=True)
    assert labels == [] and scores == []


def test_a_network_trained_on_resized_images_runs_at_its_inference_size_by_default():
    """load_network("camvid-fast") was trained at 216 x 288: semanticseg runs it there unless told
    otherwise (input_size=None: each image at its own size), as pixelseg predict does."""
    import torch

    from pixelseg.checkpoint import TrainedNetwork
    from pixelseg.inference import semanticseg

    seen = []

    class Recorder(torch.nn.Module):
        num_classes = 2

        def forward(self, x):
            seen.append(tuple(x.shape[-2:]))
            return torch.stack([x[:, 0], 1 - x[:, 0]], dim=1)

    image = np.zeros((40, 60, 3), dtype=np.uint8)
    trained = TrainedNetwork(network=Recorder(), inference_size=(20, 30))
    assert semanticseg(image, trained).shape == (40, 60) and seen == [(20, 30)]
    semanticseg(image, trained, input_size=None)
    semanticseg(image, trained.network)  # a bare network has no inference size
    semanticseg(image, trained, input_size=(10, 12))
    assert seen == [(20, 30), (40, 60), (40, 60), (10, 12)]
