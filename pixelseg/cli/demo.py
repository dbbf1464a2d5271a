"""``pixelseg demo``: the whole workflow on road scenes, end to end.

Reads a folder in CamVid layout (the bundled sample by default), partitions it when it has
no validation split, weights the classes by median frequency, builds a network from the
ImageNet-pretrained EfficientNet-Lite0 encoder, trains it with :func:`train_network`,
evaluates it with :func:`evaluate_semantic_segmentation` and writes metrics, plots and
overlays to an output folder.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from pixelseg.workflow.camvid_job import DemoConfig, run_demo


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""

    @app.command("demo")
    def demo(
        data: Path = typer.Option(
            None,
            "--data",
            help="Folder in CamVid layout (train/, trainannot/, val/, valannot/, optional "
            "classes.json). Default: the CamVid sample bundled with pixelseg.",
        ),
        output: Path = typer.Option(
            None, "--output", "-o", help="Output folder (default: runs/demo-<time>). Must be new or empty."
        ),
        epochs: int = typer.Option(None, "--epochs", min=1, help="Training epochs (default 14 on the sample, 20 on --data)."),
        network: str = typer.Option("deeplabv3plus", "--network", help="Network name, see list_networks()."),
        image_size: str = typer.Option(
            None,
            "--image-size",
            help="Training resolution HxW, e.g. 360x480 (default: 192x256 on the sample, native on --data).",
        ),
        mini_batch_size: int = typer.Option(8, "--mini-batch-size", min=1),
        seed: int = typer.Option(0, "--seed"),
        overwrite: bool = typer.Option(False, "--overwrite", help="Allow writing into a non-empty output folder."),
    ) -> None:
        """Train and evaluate a network on road scenes (CamVid), with metrics, plots and overlays."""
        config = DemoConfig.from_cli(
            data=data,
            output=output or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S"),
            epochs=epochs,
            network=network,
            image_size=image_size,
            mini_batch_size=mini_batch_size,
            seed=seed,
            overwrite=overwrite,
        )
        run_demo(config, echo=typer.echo)
