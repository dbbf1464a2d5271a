"""``pixelseg evaluate --pred DIR --truth DIR --classes FILE --out DIR``: arguments of
:func:`pixelseg.workflow.evaluate.run_evaluate`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to ``app``."""

    @app.command("evaluate")
    def evaluate(
        pred: Path = typer.Option(..., "--pred", help="Folder of predicted label maps (e.g. pred_<name>.png)."),
        truth: Path = typer.Option(..., "--truth", help="Folder of ground-truth label files."),
        classes: Path = typer.Option(..., "--classes", help="Class set file (classes.json / .yaml) of the truth."),
        out: Path = typer.Option(..., "--out", help="Output folder for metrics.json, CSVs and confusion_matrix.png."),
        nan_policy: str = typer.Option(
            "omit", "--nan-policy",
            help="Means over classes: 'omit' leaves classes without a value out; 'propagate' gives NaN as MATLAB.",
        ),
        metrics: str = typer.Option(
            "all", "--metrics",
            help="'all' or a comma-separated list of global_accuracy, accuracy, iou, weighted_iou, bf_score.",
        ),
        pred_prefix: str = typer.Option("pred_", "--pred-prefix", help="Prefix of prediction file names."),
        pred_encoding: str = typer.Option(
            "indices", "--pred-encoding",
            help="'indices': prediction pixels are class indices; 'truth': read like the ground truth.",
        ),
        worst: int = typer.Option(10, "--worst", min=0, help="Number of worst images (by mean IoU) listed."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar (the report is printed either way)."),
    ) -> None:
        """Evaluate predicted label maps against the ground truth (MATLAB evaluateSemanticSegmentation)."""
        from pixelseg.workflow.evaluate import run_evaluate

        run_evaluate(pred, truth, classes, out, nan_policy=nan_policy,
                     metrics=[m.strip() for m in metrics.split(",") if m.strip()], pred_prefix=pred_prefix,
                     pred_encoding=pred_encoding, worst=worst, overwrite=overwrite, quiet=quiet, echo=typer.echo)
