"""``pixelseg info DATA [--classes FILE]``: what a dataset folder holds, and what is wrong."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``info`` command to the pixelseg app."""

    @app.command("info")
    def info(
        data: Path = typer.Argument(..., help="Dataset folder (CamVid, VOC, Cityscapes, CVAT, labelme, images/ + labels/)."),
        classes: Path | None = typer.Option(
            None, "--classes", help="Class definitions (.json/.yaml/.txt) overriding the layout's own."
        ),
    ) -> None:
        """Print the detected layout and label format, the class table with pixel and image
        counts, the image sizes, and every problem found (unpaired files, stray label values,
        size mismatches). Exit code 1 when problems were found."""
        from pixelseg.data.report import inspect_dataset

        report = inspect_dataset(data, classes)
        typer.echo(report.to_text())
        if report.problems:
            raise SystemExit(1)
