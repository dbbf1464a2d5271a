"""The closing evaluation of a run (demo and automatic recipe): metrics files and figures of
image, ground truth and prediction side by side, optionally beside a reference network's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def predict_and_score(trained, validation, class_set, input_size):
    """Label ``validation.images`` with ``trained`` (resized to ``input_size`` (H, W) first, or
    each image at its own size when None; predictions at the labels' resolution) and score them.

    Returns:
        (predictions: list of H x W uint8 label maps, :class:`~pixelseg.evaluation.SemanticSegmentationMetrics`)
    """
    from pixelseg.evaluation import evaluate_semantic_segmentation
    from pixelseg.inference import semanticseg

    predictions = semanticseg(validation.images, trained, mini_batch_size=4, input_size=input_size, progress=False)
    metrics = evaluate_semantic_segmentation(predictions, validation.labels, class_set=class_set, verbose=False)
    return predictions, metrics


def evaluate_and_draw(run, validation, class_set, input_size, echo, count: int = 4, reference=None):
    """Evaluate ``run.trained`` on ``validation`` (a PairedDatastore) at the labels' own
    resolution (``input_size``: the training size the images are resized to first, or None),
    print the report, write the metrics files and ``count`` overlays into ``run.output``.

    Args:
        reference: optional ``(name, TrainedNetwork)`` of a second network with the same classes
            (a shipped one, ``load_network("camvid")``), run at its own inference size on the same
            images: its report is printed too, its metrics files go to ``run.output / name``, and
            its predictions are drawn beside this run's.

    Returns:
        The :class:`~pixelseg.evaluation.SemanticSegmentationMetrics` of ``run.trained``.
    """
    predictions, metrics = predict_and_score(run.trained, validation, class_set, input_size)
    echo(metrics.report())
    metrics.write(run.output, overwrite=True)
    panels = {"prediction": predictions}
    if reference is not None:
        name, network = reference
        reference_predictions, reference_metrics = predict_and_score(network, validation, class_set,
                                                                     network.inference_size)
        echo(f"the shipped network {name!r} (pixelseg models {name}) on the same images:")
        echo(reference_metrics.report())
        reference_metrics.write(run.output / name, overwrite=True)
        panels = {"this run": predictions, f"shipped {name}": reference_predictions}
    write_overlays(validation, panels, class_set, run.output / "overlays", count=count)
    return metrics


def write_overlays(pairs, predictions: Mapping[str, Sequence[np.ndarray]], class_set, out_dir: Path,
                   count: int = 4) -> list[Path]:
    """Write ``count`` PNG figures (image | ground truth | each prediction) into ``out_dir``.

    ``pairs[i]`` gives ``(image H x W x 3 uint8, truth H x W uint8)``; ``predictions`` maps a
    panel title to the H x W uint8 label maps of the same images (one panel per entry). The
    images are spread evenly over the set. Returns the written paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pixelseg.inference import label_legend, label_overlay
    from pixelseg.utils.atomic import atomic_write

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i in np.linspace(0, len(pairs) - 1, min(count, len(pairs))).round().astype(int):
        image, truth = pairs[int(i)]
        name = Path(pairs.images.files[int(i)]).stem
        panels = [(image, "image"), (label_overlay(image, truth, colormap=class_set, transparency=0.3), "ground truth")]
        panels += [(label_overlay(image, labels[int(i)], colormap=class_set, transparency=0.3), title)
                   for title, labels in predictions.items()]
        fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels) + 0.2, 4.4), constrained_layout=True)
        for ax, (panel, title) in zip(axes, panels):
            ax.imshow(panel)
            ax.set_title(f"{name}: {title}")
            ax.axis("off")
        label_legend(axes[-1], class_set)
        path = out_dir / f"{name}.png"
        with atomic_write(path, overwrite=True) as tmp:
            fig.savefig(tmp, format="png", dpi=80)
        plt.close(fig)
        written.append(path)
    return written
