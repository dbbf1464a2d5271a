"""The closing evaluation of a run (demo and automatic recipe): metrics files and figures of
image, ground truth and prediction side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def evaluate_and_draw(run, validation, class_set, input_size, echo, count: int = 4):
    """Evaluate ``run.trained`` on ``validation`` (a PairedDatastore) at the labels' own
    resolution (``input_size``: the training size the images are resized to first, or None),
    print the report, write the metrics files and ``count`` overlays into ``run.output``.

    Returns:
        The :class:`~pixelseg.evaluation.SemanticSegmentationMetrics`.
    """
    from pixelseg.evaluation import evaluate_semantic_segmentation
    from pixelseg.inference import semanticseg

    predictions = semanticseg(validation.images, run.trained, mini_batch_size=4, input_size=input_size,
                              progress=False)
    metrics = evaluate_semantic_segmentation(predictions, validation.labels, class_set=class_set, verbose=False)
    echo(metrics.report())
    metrics.write(run.output, overwrite=True)
    write_overlays(validation, predictions, class_set, run.output / "overlays", count=count)
    return metrics


def write_overlays(pairs, predictions: list[np.ndarray], class_set, out_dir: Path, count: int = 4) -> list[Path]:
    """Write ``count`` PNG figures (image | ground truth | prediction) into ``out_dir``.

    ``pairs[i]`` gives ``(image H x W x 3 uint8, truth H x W uint8)``; ``predictions[i]``
    is the H x W uint8 label map of the same image. The images are spread evenly over the
    set. Returns the written paths.
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
        panels = [
            (image, "image"),
            (label_overlay(image, truth, colormap=class_set, transparency=0.3), "ground truth"),
            (label_overlay(image, predictions[int(i)], colormap=class_set, transparency=0.3), "prediction"),
        ]
        fig, axes = plt.subplots(1, 3, figsize=(17, 4.4), constrained_layout=True)
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
