"""``pixelseg label``: the local web labeling app (see :mod:`pixelseg.labeling.server`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``label`` command to ``app``."""

    @app.command("label")
    def label(
        images_dir: Path = typer.Argument(..., metavar="IMAGES_DIR", help="Folder of images to label (never written)."),
        labels: Path = typer.Option(
            ..., "--labels", help="Folder for the label PNGs (<image stem>.png); created when missing."
        ),
        classes: Path = typer.Option(
            ..., "--classes", help="classes.json of the project (the class editor saves to it)."
        ),
        model: Path = typer.Option(
            None, "--model", help="Checkpoint of a trained network (TrainedNetwork.save) for pre-labeling, or the name "
                                 "of a shipped network (pixelseg models: camvid)."
        ),
        host: str = typer.Option(
            "127.0.0.1",
            "--host",
            help="Address to bind. Any non-loopback address requires the access token printed in the URL.",
        ),
        port: int = typer.Option(8765, "--port", min=1, max=65535),
        token: str = typer.Option(
            None,
            "--token",
            help="Access token to require (default: none on loopback, a random one otherwise).",
        ),
    ) -> None:
        """Label images in the browser: brush, polygon, flood fill, superpixels, pre-labeling."""
        from pixelseg.labeling.server import run

        run(images_dir, labels, classes, model=model, host=host, port=port, token=token, echo=typer.echo)
