"""``pixelseg export CHECKPOINT OUT.onnx``: arguments of :func:`pixelseg.workflow.export.run_export`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to ``app``."""

    @app.command("export")
    def export(
        checkpoint: Path = typer.Argument(..., metavar="CHECKPOINT", help="A network saved by pixelseg."),
        output: Path = typer.Argument(..., metavar="OUT.onnx", help="The .onnx file to write."),
        opset: int = typer.Option(None, "--opset", help="ONNX opset (default: the exporter's)."),
        size: str = typer.Option(None, "--size", help="Example input HxW (default: the training size, else 96x128)."),
        fixed_size: bool = typer.Option(False, "--fixed-size", help="Fix batch 1 and --size instead of dynamic axes."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
        verify: bool = typer.Option(True, "--verify/--no-verify", help="Check against PyTorch with onnxruntime."),
    ) -> None:
        """Export a trained network to ONNX (class names and colours in its metadata)."""
        from pixelseg.workflow.export import run_export

        run_export(checkpoint, output, opset=opset, size=size, fixed_size=fixed_size,
                   overwrite=overwrite, verify=verify)
