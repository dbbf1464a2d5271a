"""``pixelseg demo``: arguments of :func:`pixelseg.workflow.demo.run_demo` (the whole workflow
on road scenes: train, evaluate, metrics, plots and overlays)."""

from __future__ import annotations

from pathlib import Path

import typer


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
        compare: str = typer.Option("camvid", "--compare", help="A shipped network (pixelseg models) run on the same "
                                    "validation images beside the new one; 'none' to skip."),
    ) -> None:
        """Train and evaluate a network on road scenes (CamVid), with metrics, plots and overlays."""
        from pixelseg.workflow.demo import DemoConfig, run_demo

        run_demo(DemoConfig.with_defaults(data=data, output=output, epochs=epochs, network=network,
                                          image_size=image_size, mini_batch_size=mini_batch_size, seed=seed,
                                          overwrite=overwrite,
                                          compare=None if compare.lower() == "none" else compare))
