"""``net.config`` stays exactly what the networks recorded before they captured their own
arguments: checkpoints on users' disks store it and are rebuilt with ``create_network(**config)``.

Each expected value is ``repr(net.config)`` as the hand-written builder configs gave it (so key
order, tuple vs list and int vs float are pinned too), for tiny networks, ``weights=None``
or the bundled "imagenet" weights (weights are never part of the config).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import pixelseg.models as models

# (id, function of pixelseg.models, positional args, keyword args, repr of the config recorded)
CASES = [
    ("segnet-default", "segnet", (), {"num_classes": 2, "encoder_depth": 1},
     "{'name': 'segnet', 'num_classes': 2, 'encoder': 'vgg16', 'encoder_depth': 1, 'in_channels': 3, "
     "'image_size': None}"),
    ("segnet-positional", "segnet", ((32, 48), 3, "vgg16", 2), {},
     "{'name': 'segnet', 'num_classes': 3, 'encoder': 'vgg16', 'encoder_depth': 2, 'in_channels': 3, "
     "'image_size': (32, 48)}"),
    ("segnet-bn-size3", "segnet", ([16, 24, 3],), {"num_classes": 5, "encoder": "vgg16_bn", "encoder_depth": 1},
     "{'name': 'segnet', 'num_classes': 5, 'encoder': 'vgg16_bn', 'encoder_depth': 1, 'in_channels': 3, "
     "'image_size': (16, 24, 3)}"),
    ("segnet-grey", "segnet", ((16, 16, 1), 4), {"encoder_depth": 3, "in_channels": 1},
     "{'name': 'segnet', 'num_classes': 4, 'encoder': 'vgg16', 'encoder_depth': 3, 'in_channels': 1, "
     "'image_size': (16, 16, 1)}"),
    ("segnet-float-size", "segnet", ((16.0, 24.0),), {"num_classes": 2, "encoder_depth": 1, "weights": None},
     "{'name': 'segnet', 'num_classes': 2, 'encoder': 'vgg16', 'encoder_depth': 1, 'in_channels': 3, "
     "'image_size': (16, 24)}"),
    ("unet-default", "unet", (), {"num_classes": 2, "num_first_encoder_filters": 2, "encoder_depth": 1},
     "{'name': 'unet', 'num_classes': 2, 'encoder': None, 'encoder_depth': 1, 'num_first_encoder_filters': 2, "
     "'in_channels': 3, 'image_size': None}"),
    ("unet-classic-positional", "unet", (None, 3), {"encoder_depth": 2, "num_first_encoder_filters": 4},
     "{'name': 'unet', 'num_classes': 3, 'encoder': None, 'encoder_depth': 2, 'num_first_encoder_filters': 4, "
     "'in_channels': 3, 'image_size': None}"),
    ("unet-classic-numpy-size", "unet", (np.array([24, 40]), 255),
     {"encoder_depth": 3, "num_first_encoder_filters": 1, "in_channels": 4},
     "{'name': 'unet', 'num_classes': 255, 'encoder': None, 'encoder_depth': 3, 'num_first_encoder_filters': 1, "
     "'in_channels': 4, 'image_size': (24, 40)}"),
    ("unet-resnet18", "unet", ((20, 12),), {"num_classes": 2, "encoder": "resnet18", "encoder_depth": 2},
     "{'name': 'unet', 'num_classes': 2, 'encoder': 'resnet18', 'encoder_depth': 2, "
     "'num_first_encoder_filters': None, 'in_channels': 3, 'image_size': (20, 12)}"),
    ("unet-effnet", "unet", (None, 7, "efficientnet_lite0", 3), {"in_channels": 2},
     "{'name': 'unet', 'num_classes': 7, 'encoder': 'efficientnet_lite0', 'encoder_depth': 3, "
     "'num_first_encoder_filters': None, 'in_channels': 2, 'image_size': None}"),
    ("unet-vgg16", "unet", ((8, 8, 3), 2), {"encoder": "vgg16", "encoder_depth": 1},
     "{'name': 'unet', 'num_classes': 2, 'encoder': 'vgg16', 'encoder_depth': 1, "
     "'num_first_encoder_filters': None, 'in_channels': 3, 'image_size': (8, 8, 3)}"),
    ("unet-vgg16bn", "unet", (), {"num_classes": 1, "encoder": "vgg16_bn", "encoder_depth": 2, "image_size": [9, 11]},
     "{'name': 'unet', 'num_classes': 1, 'encoder': 'vgg16_bn', 'encoder_depth': 2, "
     "'num_first_encoder_filters': None, 'in_channels': 3, 'image_size': (9, 11)}"),
    ("deeplab-default", "deeplabv3plus", (), {"num_classes": 2},
     "{'name': 'deeplabv3plus', 'num_classes': 2, 'backbone': 'resnet18', 'downsampling_factor': 16, "
     "'in_channels': 3, 'image_size': None}"),
    ("deeplab-effnet-8", "deeplabv3plus", ((48, 64, 3), 5), {"backbone": "efficientnet_lite0", "downsampling_factor": 8},
     "{'name': 'deeplabv3plus', 'num_classes': 5, 'backbone': 'efficientnet_lite0', 'downsampling_factor': 8, "
     "'in_channels': 3, 'image_size': (48, 64, 3)}"),
    ("deeplab-positional", "deeplabv3plus", ((30, 40), 3, "resnet18", 8, None, 1), {},
     "{'name': 'deeplabv3plus', 'num_classes': 3, 'backbone': 'resnet18', 'downsampling_factor': 8, "
     "'in_channels': 1, 'image_size': (30, 40)}"),
    ("deeplab-float-factor", "deeplabv3plus", (), {"num_classes": 4, "downsampling_factor": 16.0, "in_channels": 5},
     "{'name': 'deeplabv3plus', 'num_classes': 4, 'backbone': 'resnet18', 'downsampling_factor': 16.0, "
     "'in_channels': 5, 'image_size': None}"),
    ("deeplab-imagenet", "deeplabv3plus", (), {"num_classes": 2, "backbone": "efficientnet_lite0", "weights": "imagenet"},
     "{'name': 'deeplabv3plus', 'num_classes': 2, 'backbone': 'efficientnet_lite0', 'downsampling_factor': 16, "
     "'in_channels': 3, 'image_size': None}"),
    ("fcn-default", "fcn", (), {"num_classes": 2},
     "{'name': 'fcn', 'num_classes': 2, 'type': '8s', 'in_channels': 3, 'image_size': None}"),
    ("fcn-16s", "fcn", ((64, 64), 3, "16s"), {},
     "{'name': 'fcn', 'num_classes': 3, 'type': '16s', 'in_channels': 3, 'image_size': (64, 64)}"),
    ("fcn-32s-grey", "fcn", ([32, 32, 1],), {"num_classes": 21, "type": "32s", "in_channels": 1},
     "{'name': 'fcn', 'num_classes': 21, 'type': '32s', 'in_channels': 1, 'image_size': (32, 32, 1)}"),
    ("create-segnet", "create_network", ("segnet", 2), {"encoder": "vgg16_bn", "encoder_depth": 2},
     "{'name': 'segnet', 'num_classes': 2, 'encoder': 'vgg16_bn', 'encoder_depth': 2, 'in_channels': 3, "
     "'image_size': None}"),
    ("create-unet", "create_network", ("unet",),
     {"num_classes": 3, "image_size": (16, 16), "encoder_depth": 1, "num_first_encoder_filters": 2},
     "{'name': 'unet', 'num_classes': 3, 'encoder': None, 'encoder_depth': 1, 'num_first_encoder_filters': 2, "
     "'in_channels': 3, 'image_size': (16, 16)}"),
    ("create-deeplab", "create_network", ("deeplabv3plus", 3), {"backbone": "resnet50", "image_size": (64, 64, 3)},
     "{'name': 'deeplabv3plus', 'num_classes': 3, 'backbone': 'resnet50', 'downsampling_factor': 16, "
     "'in_channels': 3, 'image_size': (64, 64, 3)}"),
    ("create-fcn", "create_network", ("fcn", 2), {"type": "8s", "weights": None},
     "{'name': 'fcn', 'num_classes': 2, 'type': '8s', 'in_channels': 3, 'image_size': None}"),
]


@pytest.mark.parametrize(("build", "args", "kwargs", "expected"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_config_is_the_one_recorded_before(build, args, kwargs, expected):
    net = getattr(models, build)(*args, **kwargs)
    assert repr(net.config) == expected
    # a checkpoint stores the config as JSON (tuples become lists) and rebuilds from it
    rebuilt = models.create_network(**json.loads(json.dumps(net.config)))
    assert repr(rebuilt.config) == expected
