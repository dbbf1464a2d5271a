"""``pixelseg info DATA [--classes FILE]``: what a dataset folder (or a YAML ``data:`` block)
holds, and what is wrong: arguments of :func:`pixelseg.workflow.info.run_info`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``info`` command to the pixelseg app."""

    @app.command("info")
    def info(
        data: Path = typer.Argument(..., metavar="DATA", help="Dataset folder (any layout: CamVid, VOC, Cityscapes, nested groups, "
                                                "masks beside images, suffixes, class folders...), or a YAML file "
                                                "with a data: block (train.yaml)."),
        classes: Path | None = typer.Option(
            None, "--classes", help="Class definitions (.json/.yaml/.txt) overriding the layout's own."
        ),
    ) -> None:
        """Print the detected layout and label format, the class table with pixel and image
        counts, the image sizes, and every problem found (unpaired files, stray label values,
        size mismatches). Exit code 1 when problems were found."""
        from pixelseg.workflow.info import run_info

        code = run_info(data, classes, echo=typer.echo)
        if code:
            raise SystemExit(code)
