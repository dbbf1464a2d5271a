"""``pixelseg export CHECKPOINT OUT.onnx``: arguments of :func:`pixelseg.workflow.export.run_export`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to ``app``."""

    @app.command("export")
    def export(
        checkpoint: Path = typer.Argument(..., metavar="CHECKPOINT", help="A network saved by pixelseg, or a shipped network's name."),
        output: Path = typer.Argument(..., metavar="OUT.onnx", help="The .onnx file to write."),
        opset: int = typer.Option(None, "--opset", help="ONNX opset (default: the exporter's)."),
        size: str = typer.Option(None, "--size", help="Example input HxW (default: the training size, else 96x128)."),
        fixed_size: bool = typer.Option(False, "--fixed-size", help="Fix batch 1 and --size instead of dynamic axes."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
        verify: bool = typer.Option(True, "--verify/--no-verify", help="Check against PyTorch with onnxruntime."),
        quantize: str = typer.Option(None, "--quantize", help="int8: static int8 quantization (QDQ) with "
                                                              "onnxruntime's quantizer, calibrated on --calibration."),
        calibration: Path = typer.Option(None, "--calibration", help="With --quantize: a folder of calibration "
                                                                      "images typical of the deployment."),
        validation_images: Path = typer.Option(None, "--validation-images", help="With --quantize: images (not "
                                               "calibration ones) on which float and int8 mean IoU are compared."),
        validation_labels: Path = typer.Option(None, "--validation-labels", help="Their label files (the "
                                               "checkpoint's classes, paired by name)."),
        label_suffix: str = typer.Option("", "--label-suffix", help="Label names end with it before the "
                                                                    "extension (_L pairs CamVid's labels)."),
    ) -> None:
        """Export a trained network to ONNX (class names and colours in its metadata), float or int8."""
        from pixelseg.workflow.export import run_export

        run_export(checkpoint, output, opset=opset, size=size, fixed_size=fixed_size,
                   overwrite=overwrite, verify=verify, quantize=quantize, calibration=calibration,
                   validation_images=validation_images, validation_labels=validation_labels,
                   label_suffix=label_suffix)
