"""``pixelseg models [NAME]``: arguments of :func:`pixelseg.workflow.models.run_models`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``models`` command to ``app``."""

    @app.command("models")
    def models(
        name: str = typer.Argument(None, metavar="[NAME]", help="A shipped network: print its whole model card."),
    ) -> None:
        """List the ready-trained networks shipped with pixelseg, with their card's numbers."""
        from pixelseg.workflow.models import run_models

        run_models(name, echo=typer.echo)
