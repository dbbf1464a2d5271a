"""``pixelseg train [--config] train.yaml`` or ``pixelseg train --data DIR --time-budget 30m``: arguments
of :func:`pixelseg.workflow.train.run_train_config` and :func:`pixelseg.workflow.auto_train.run_auto_train`;
``--print-config`` prints :func:`pixelseg.workflow.train_config.config_text` instead."""

from __future__ import annotations

from pathlib import Path

import typer

from pixelseg.cli._support import usage_error


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""

    @app.command("train")
    def train(
        config_file: Path = typer.Argument(None, metavar="CONFIG", help="The YAML, instead of --config."),
        config: Path = typer.Option(None, "--config", "-c", help="YAML with data, classes, class_weights, network, "
                                    "options (see pixelseg.workflow.train_config)."),
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
        print_config: bool = typer.Option(False, "--print-config", help="Print the config with every default filled "
                                          "in (the defaults without a config) and exit without training."),
    ) -> None:
        """Train a network as the config says, or (--data) as the automatic recipe chooses within a time
        budget; writes checkpoints, log, plot, resolved config and metrics."""
        if config_file is not None and config is not None and config_file != config:
            raise usage_error(f"two configs given ({config_file} and --config {config}); give one")
        config = config or config_file
        if config is not None and data is not None:
            raise usage_error("give either a config (train.yaml) or --data DIR (automatic recipe), not both")
        if print_config:
            if data is not None:
                raise usage_error("--print-config prints a train.yaml; with --data the run folder's config.yaml "
                                  "holds the recipe's choices")
            from pixelseg.workflow.train_config import config_text

            typer.echo(config_text(config, overrides or ()), nl=False)
            return
        if data is not None:
            from pixelseg.workflow.auto_train import run_auto_train

            run_auto_train(data, classes, time_budget, domain, output=output, overwrite=overwrite)
            return
        if config is None:
            raise usage_error("give either --config FILE (a train.yaml; pixelseg train --print-config prints a "
                              "template) or --data DIR (a dataset folder, automatic recipe)")
        from pixelseg.workflow.train import run_train_config

        run_train_config(config, overrides or (), output=output, overwrite=overwrite, resume=resume)
