"""The demo job: CamVid-layout folder -> trained network -> metrics, plots and overlays.

Every step goes through the public API of one stage (data, models, training, evaluation,
inference), so this module is also the reference for how the stages fit together.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.utils.sizes import parse_size

CAMVID_FOLDERS = ("train", "trainannot", "val", "valannot")
SAMPLE_IMAGE_SIZE = (192, 256)
NETWORK_DEFAULTS = {
    "deeplabv3plus": {"backbone": "efficientnet_lite0", "weights": "imagenet"},
    "unet": {"encoder": "efficientnet_lite0", "weights": "imagenet"},
}


def bundled_sample() -> Path:
    """Path of the CamVid sample shipped inside the package (60 train + 20 val pairs)."""
    return Path(str(resources.files("pixelseg") / "demo_data" / "camvid_sample"))


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """Everything the demo job needs; built from the CLI by :meth:`from_cli`."""

    data: Path
    output: Path
    epochs: int
    network: str
    image_size: tuple[int, int] | None  # None: native resolution
    mini_batch_size: int = 8
    seed: int = 0
    overwrite: bool = False
    num_overlays: int = 4

    @classmethod
    def from_cli(cls, *, data, output, epochs, network, image_size, **kw) -> DemoConfig:
        on_sample = data is None
        size = parse_size(image_size, "--image-size")
        return cls(
            data=bundled_sample() if on_sample else Path(data),
            output=Path(output),
            epochs=epochs or (14 if on_sample else 20),
            network=network,
            image_size=size if size is not None else (SAMPLE_IMAGE_SIZE if on_sample else None),
            **kw,
        )


def check_camvid_layout(root: Path) -> None:
    """Raise a one-sentence :class:`DataError` unless ``root`` is a folder in CamVid layout."""
    if not root.exists():
        raise DataError(f"data folder {root} does not exist")
    if not root.is_dir():
        raise DataError(f"data folder {root} is not a folder")
    missing = [name for name in CAMVID_FOLDERS[:2] if not (root / name).is_dir()]
    if missing:
        raise DataError(
            f"{root} is not in CamVid layout: expected the folders train/ and trainannot/ "
            f"(and optionally val/, valannot/, classes.json); missing: {', '.join(missing)}"
        )


def prepare_output(path: Path, overwrite: bool) -> Path:
    """Create the output folder; refuse a non-empty one unless ``overwrite``."""
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"output {path} exists and is a file, not a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise ConfigurationError(f"output folder {path} is not empty; pass --overwrite or choose another --output")
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_pairs(root: Path, split: str, class_set):
    """``combine`` the images of ``root/split`` with the labels of ``root/splitannot``."""
    from pixelseg.data import ImageDatastore, PixelLabelDatastore, combine

    images = ImageDatastore(root / split)
    labels = PixelLabelDatastore(root / f"{split}annot", class_set)
    if len(images) == 0:
        raise DataError(f"no images found in {root / split}")
    return combine(images, labels)


def run_demo(config: DemoConfig, echo: Callable[[str], None] = print) -> dict:
    """Run the demo job and return its dataset metrics as a dict.

    Writes into ``config.output``: ``network.ckpt``, ``metrics.json``, ``*_metrics.csv``,
    ``confusion_matrix.png``, ``training_progress.png``, ``training_log.csv`` and
    ``overlays/*.png``.
    """
    from pixelseg.data import class_weights, count_each_label, partition
    from pixelseg.data.formats.camvid import camvid_class_set
    from pixelseg.evaluation import evaluate_semantic_segmentation
    from pixelseg.inference import semanticseg
    from pixelseg.models import create_network
    from pixelseg.training import TrainingOptions, train_network
    from pixelseg.workflow.pictures import write_overlays

    started = time.perf_counter()
    root = config.data
    check_camvid_layout(root)
    out = prepare_output(config.output, config.overwrite)
    class_set = _load_class_set(root, camvid_class_set)

    # 1-3. Datastores, pairing, partition.
    train = load_pairs(root, "train", class_set)
    if (root / "val").is_dir() and (root / "valannot").is_dir():
        val = load_pairs(root, "val", class_set)
        echo(f"data: {root}  train {len(train)} pairs, val {len(val)} pairs")
    else:
        train, val = partition(train, (0.8, 0.2), seed=config.seed)
        echo(f"data: {root}  no val/ folder: partitioned train/ into {len(train)} + {len(val)} pairs (seed {config.seed})")

    # Statistics and class weights.
    table = count_each_label(train.labels)
    weights = class_weights(table, method="median_frequency")
    table["weight"] = weights
    echo("class statistics (count_each_label) and median-frequency weights:")
    echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    # 4. Network from a pretrained CNN.
    kwargs = dict(NETWORK_DEFAULTS.get(config.network, {}))
    net = create_network(config.network, num_classes=class_set.num_classes, **kwargs)
    echo(f"network: {config.network} {kwargs} ({sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters)")

    # 5. Training.
    train_ds, val_ds = _training_views(train, val, config)
    options = TrainingOptions(
        solver="adamw",
        initial_learn_rate=2e-3,
        learn_rate_schedule="poly",
        warmup_epochs=1,
        l2_regularization=1e-4,
        max_epochs=config.epochs,
        mini_batch_size=config.mini_batch_size,
        shuffle="every-epoch",
        validation_frequency=max(1, len(train_ds) // config.mini_batch_size) * 2,
        output_network="last-iteration",
        output_dir=out,
        plots="training-progress",
        seed=config.seed,
        num_workers=0,
        verbose=True,
    )
    trained = train_network(train_ds, net, options, validation_data=val_ds, class_weights=weights, class_set=class_set)
    trained.save(out / "network.ckpt", overwrite=config.overwrite)

    # 6. Evaluation at the labels' native resolution.
    predictions = semanticseg(val.images, trained, mini_batch_size=4, input_size=config.image_size, progress=False)
    metrics = evaluate_semantic_segmentation(predictions, val.labels, class_set=class_set, verbose=False)
    echo(metrics.report())
    metrics.write(out, overwrite=True)
    write_overlays(val, predictions, class_set, out / "overlays", count=config.num_overlays)

    elapsed = time.perf_counter() - started
    echo(f"done in {elapsed:.0f} s; outputs in {out.resolve()}")
    return metrics.dataset_metrics.iloc[0].to_dict()


def _load_class_set(root: Path, default):
    from pixelseg.data import ClassSet

    for name in ("classes.json", "classes.yaml", "classes.yml"):
        if (root / name).is_file():
            return ClassSet.load(root / name)
    return default()


def _training_views(train, val, config: DemoConfig):
    """Tensor views of the pairs: augmented (training) and resized (validation)."""
    from pixelseg.data import Augmenter
    from pixelseg.data.transforms import Resize

    train_view, val_view = train, val
    if config.image_size is not None:
        train_view = train_view.transform(Resize(config.image_size))
        val_view = val_view.transform(Resize(config.image_size))
    train_view = train_view.as_tensors().transform(Augmenter("default", seed=config.seed))
    return train_view, val_view.as_tensors()


__all__ = ["DemoConfig", "run_demo", "bundled_sample", "check_camvid_layout"]
