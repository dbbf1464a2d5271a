"""The demo job (``pixelseg demo``): the train job on a folder in CamVid layout (the bundled
sample by default), then the demo's pictures.

:func:`demo_job` describes the run as a :class:`~pixelseg.workflow.train_config.TrainJob`
(DeepLab v3+ on the ImageNet EfficientNet-Lite0 encoder, median-frequency class weights,
default augmentation, AdamW with a poly schedule); :func:`run_demo` runs it through
:func:`~pixelseg.workflow.train.run_train_job`, evaluates the network on the validation
images at their own resolution and adds the metrics files, the confusion matrix and overlays.
It ends by running the shipped ``camvid`` network (``pixelseg models``) on the same validation
images, so the report and the overlays show what a few minutes of training give beside a
network trained for an hour on the whole of CamVid (train + val: it has seen the sample's
validation images, which the report says).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from pixelseg.data.spec import DataSpec
from pixelseg.utils.sizes import parse_size
from pixelseg.workflow._common import run_folder
from pixelseg.workflow.pictures import evaluate_and_draw
from pixelseg.workflow.train import open_data, run_train_job
from pixelseg.workflow.train_config import TrainJob

__all__ = ["DemoConfig", "demo_job", "run_demo", "bundled_sample", "shipped_reference"]

_log = logging.getLogger(__name__)

SAMPLE_IMAGE_SIZE = (192, 256)
SAMPLE_EPOCHS, DATA_EPOCHS = 14, 20
#: Encoder arguments of the networks that take the pretrained EfficientNet-Lite0.
NETWORK_DEFAULTS = {
    "deeplabv3plus": {"backbone": "efficientnet_lite0", "weights": "imagenet"},
    "unet": {"encoder": "efficientnet_lite0", "weights": "imagenet"},
}
_CLASS_FILES = ("classes.json", "classes.yaml", "classes.yml")


def bundled_sample() -> Path:
    """Path of the CamVid sample shipped inside the package (60 train + 20 val pairs)."""
    return Path(str(resources.files("pixelseg") / "demo_data" / "camvid_sample"))


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """The settings of one demo run; :meth:`with_defaults` fills in the defaults.

    data: folder in CamVid layout (``train/ trainannot/``, optionally ``val/ valannot/`` and
    ``classes.json``); output: the run folder (new or empty unless ``overwrite``); image_size:
    (H, W) for training, None for the native resolution; num_overlays: overlay figures written;
    compare: the name of a shipped network (``pixelseg models``) evaluated on the same validation
    images and drawn beside this run's network, or None.
    """

    data: Path
    output: Path
    epochs: int
    network: str
    image_size: tuple[int, int] | None  # None: native resolution
    mini_batch_size: int = 8
    seed: int = 0
    overwrite: bool = False
    num_overlays: int = 4
    compare: str | None = "camvid"  # a shipped network run beside this one; None: none

    @classmethod
    def with_defaults(cls, data: str | Path | None = None, output: str | Path | None = None, epochs: int | None = None,
                      network: str = "deeplabv3plus", image_size: str | tuple[int, int] | None = None,
                      **settings) -> DemoConfig:
        """The demo's defaults: the bundled sample, ``runs/demo-<time>``, 14 epochs at 192 x 256
        on the sample, 20 epochs at the native size on ``data``.

        Raises:
            ConfigurationError: a bad ``image_size`` (``"HxW"``).
        """
        on_sample = data is None
        size = parse_size(image_size, "--image-size")
        return cls(
            data=bundled_sample() if on_sample else Path(data),
            output=run_folder(output, "demo"),
            epochs=epochs or (SAMPLE_EPOCHS if on_sample else DATA_EPOCHS),
            network=network,
            image_size=size if size is not None else (SAMPLE_IMAGE_SIZE if on_sample else None),
            **settings,
        )


def demo_job(config: DemoConfig, train_pairs: int | None = None) -> TrainJob:
    """The train job of the demo; with ``train_pairs`` (the number of training pairs, known
    once the data is open) it validates every two epochs."""
    class_file = next((config.data / name for name in _CLASS_FILES if (config.data / name).is_file()), None)
    return TrainJob(
        data=DataSpec(root=config.data, layout="camvid", split=[0.8, 0.2], image_size=config.image_size,
                         augment="default"),
        classes=class_file,  # None: the CamVid classes
        class_weights="median_frequency",
        network={"name": config.network, **NETWORK_DEFAULTS.get(config.network, {})},
        options={
            "solver": "adamw", "initial_learn_rate": 2e-3, "learn_rate_schedule": "poly", "warmup_epochs": 1,
            "l2_regularization": 1e-4, "max_epochs": config.epochs, "mini_batch_size": config.mini_batch_size,
            "shuffle": "every-epoch", "output_network": "last-iteration", "plots": "training-progress",
            "seed": config.seed, "num_workers": 0, "verbose": True, "keep_checkpoints": 1,
            **({"validation_frequency": max(1, train_pairs // config.mini_batch_size) * 2} if train_pairs else {}),
        },
    )


def run_demo(config: DemoConfig, echo: Callable[[str], None] = _log.info) -> dict:
    """Run the demo and return its dataset metrics (global_accuracy, mean_accuracy, mean_iou,
    weighted_iou, mean_bf_score) as a dict.

    Writes into ``config.output`` what the train job writes (``network.ckpt``,
    ``training_log.csv``, ``training_progress.png``, ``config.yaml``, ``checkpoints/``, ...)
    and ``metrics.json``, ``*_metrics.csv``, ``confusion_matrix.png``, ``overlays/*.png``.

    Raises:
        DataError: ``config.data`` is missing, not a folder or not in CamVid layout; bad
            label files (naming the file and the value).
        ConfigurationError: the output is a file or a non-empty folder and ``overwrite`` is
            False; an unknown network.
    """
    started = time.perf_counter()
    data = open_data(demo_job(config))
    run = run_train_job(demo_job(config, len(data.train)), config.output, overwrite=config.overwrite, echo=echo,
                        data=data)

    # Evaluation at the labels' native resolution, then the demo's pictures.
    metrics = evaluate_and_draw(run, data.validation, data.class_set, config.image_size, echo, config.num_overlays,
                                reference=shipped_reference(config.compare, data.class_set, echo))

    echo(f"done in {time.perf_counter() - started:.0f} s; outputs in {run.output.resolve()}")
    return metrics.dataset_metrics.iloc[0].to_dict()


def shipped_reference(name: str | None, class_set, echo: Callable[[str], None] = _log.info):
    """``(name, TrainedNetwork)`` of the shipped network ``name`` when it predicts the classes of
    ``class_set`` (same names, same order), else None with one line saying why it is left out."""
    if not name:
        return None
    from pixelseg.checkpoint import load_network
    from pixelseg.pretrained import model_cards

    cards = {card.name: card for card in model_cards()}
    if name not in cards:
        echo(f"no shipped network {name!r} in this installation; `pixelseg models` lists those there are")
        return None
    network = load_network(name)
    if not class_set.same_names(network.class_set):
        echo(f"the shipped network {name!r} predicts other classes than this data's; it is not run beside")
        return None
    note = cards[name].held_out_note()
    if note:
        echo(note)
    return name, network
