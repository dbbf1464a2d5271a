"""``pixelseg train --config train.yaml`` or ``pixelseg train --data DIR --time-budget 30m``: arguments
of :func:`pixelseg.workflow.train.run_train_config` and :func:`pixelseg.workflow.auto_train.run_auto_train`."""

from __future__ import annotations

from pathlib import Path

import typer

from pixelseg.cli._support import usage_error


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""

    @app.command("train")
    def train(
        config: Path = typer.Option(None, "--config", "-c", help="YAML with data, classes, class_weights, network, options "
                                    "(see pixelseg.workflow.train_config)."),
        data: Path = typer.Option(None, "--data", "-d", help="Instead of --config: a dataset folder (any layout "
                                  "pixelseg info detects); the automatic recipe chooses network, size, augmentation, "
                                  "class weights and epochs to fit --time-budget."),
        classes: Path = typer.Option(None, "--classes", help="With --data: class definitions (default: the layout's, "
                                     "else one class per label value)."),
        time_budget: str = typer.Option("30m", "--time-budget", help="With --data: wall time for the whole job, "
                                        "e.g. 10m, 1h30m, 600 (seconds)."),
        domain: str = typer.Option("auto", "--domain", help="With --data: scene, aerial, microscopy, medical, "
                                   "inspection or auto (greyscale: microscopy; colour: scene)."),
        overrides: list[str] = typer.Option(None, "--set", "-s", help="Override a field: key.sub=value (YAML value), "
                                            "e.g. --set options.max_epochs=3; repeatable."),
        output: Path = typer.Option(None, "--output", "-o", help="Run folder (default: runs/train-<time>); must be "
                                    "new or empty."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Allow writing into a non-empty run folder."),
        resume: Path = typer.Option(None, "--resume", help="Continue a stopped run: its run folder (the "
                                    "furthest-trained readable checkpoint in RUN/checkpoints is used), a folder of "
                                    "checkpoints, or one checkpoint file; the output defaults to that run's folder."),
    ) -> None:
        """Train a network as the config says, or (--data) as the automatic recipe chooses within a time
        budget; writes checkpoints, log, plot, resolved config and metrics."""
        if (config is None) == (data is None):
            raise usage_error("give either --config FILE (a train.yaml) or --data DIR (a dataset folder, automatic "
                              "recipe)" + (", not both" if config is not None else ""))
        if data is not None:
            from pixelseg.workflow.auto_train import run_auto_train

            run_auto_train(data, classes, time_budget, domain, output=output, overwrite=overwrite, echo=typer.echo)
            return
        from pixelseg.workflow.train import run_train_config

        run_train_config(config, overrides or (), output=output, overwrite=overwrite, resume=resume, echo=typer.echo)
