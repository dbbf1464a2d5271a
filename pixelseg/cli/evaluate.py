"""``pixelseg evaluate --pred DIR (--truth DIR --classes FILE | --data FILE) --out DIR``:
arguments of :func:`pixelseg.workflow.evaluate.run_evaluate`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to ``app``."""

    @app.command("evaluate")
    def evaluate(
        pred: Path = typer.Option(..., "--pred", help="Folder of predicted label maps (e.g. pred_<name>.png)."),
        truth: Path | None = typer.Option(None, "--truth", help="Folder of ground-truth label files (subfolders too)."),
        classes: Path | None = typer.Option(
            None, "--classes", help="Class set file (classes.json / .yaml) of the truth; with --data, default the "
                                    "YAML's classes: or the layout's own."),
        data: Path | None = typer.Option(
            None, "--data", help="Instead of --truth: a YAML file with a data: block (train.yaml); the truth is read "
                                 "exactly as training reads it."),
        split: str | None = typer.Option(None, "--split", help="With --data: the split scored (default test, else "
                                                                "the validation split, else all)."),
        label_suffix: str = typer.Option("", "--label-suffix", help="Only truth files whose name ends with it "
                                                                    "(before the extension): _gtFine_labelIds, _L."),
        pred_suffix: str = typer.Option("", "--pred-suffix", help="Removed from prediction names before pairing "
                                                                  "(_leftImg8bit)."),
        tolerance: int = typer.Option(0, "--tolerance", min=0, help="Snap truth values this close to a class ID."),
        threshold: float | None = typer.Option(None, "--threshold", help="Two-class grey truth masks: values >= "
                                                                         "threshold are the larger ID's class."),
        palette: str = typer.Option("auto", "--palette", help="Palette truth files: auto, indices or colors."),
        mat_variable: str | None = typer.Option(None, "--mat-variable", help="The label array of .mat truth files."),
        regions: Path | None = typer.Option(None, "--regions", help="With --truth: regions of interest, a folder of "
                                            "masks paired with the truth files like the predictions, or one mask "
                                            "file; only pixels inside (nonzero) are scored. With --data: the data "
                                            "block's region masks."),
        region_suffix: str = typer.Option("", "--region-suffix", help="Removed from mask names before pairing "
                                                                      "(_training_mask)."),
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

        options = {"tolerance": tolerance, "threshold": threshold, "palette": palette, "mat_variable": mat_variable}
        defaults = {"tolerance": 0, "threshold": None, "palette": "auto", "mat_variable": None}
        run_evaluate(pred, truth, classes, out, nan_policy=nan_policy,
                     metrics=[m.strip() for m in metrics.split(",") if m.strip()], pred_prefix=pred_prefix,
                     pred_encoding=pred_encoding, worst=worst, overwrite=overwrite, quiet=quiet, echo=typer.echo,
                     label_suffix=label_suffix, pred_suffix=pred_suffix,
                     read_options={k: v for k, v in options.items() if v != defaults[k]}, data=data, split=split,
                     regions=regions, region_suffix=region_suffix)
