"""Every package's ``__all__`` is what a user may import, and every name in it resolves."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import pixelseg

PACKAGES = sorted(
    name for _, name, is_package in pkgutil.walk_packages(pixelseg.__path__, "pixelseg.") if is_package
) + ["pixelseg"]


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "pixelseg.demo_data"])
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{package} has no __all__"
    assert len(names) == len(set(names)), f"{package}.__all__ repeats a name"
    for name in names:
        assert not name.startswith("_"), f"{package}.__all__ lists the private name {name}"
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_top_level_names_are_the_documented_workflow():
    expected = {"ClassSet", "ImageDatastore", "PixelLabelDatastore", "combine", "partition", "count_each_label",
                "class_weights", "create_network", "segnet", "unet", "deeplabv3plus", "fcn", "TrainingOptions",
                "train_network", "load_network", "TrainedNetwork", "semanticseg", "semanticseg_tiled",
                "evaluate_semantic_segmentation", "label_overlay", "export_onnx", "OnnxSegmenter"}
    assert expected <= set(pixelseg.__all__)
    assert pixelseg.load_network is importlib.import_module("pixelseg.checkpoint").load_network
