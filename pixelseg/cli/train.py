"""``pixelseg train --config train.yaml``: arguments of :func:`pixelseg.workflow.train.run_train_config`;
``--print-config`` prints :func:`pixelseg.workflow.train_config.config_text` instead."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""

    @app.command("train")
    def train(
        config_file: Path = typer.Argument(None, metavar="CONFIG", help="The YAML, instead of --config."),
        config: Path = typer.Option(None, "--config", "-c", help="YAML with data, classes, class_weights, network, "
                                    "options (see pixelseg.workflow.train_config)."),
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
        """Train a network as the config says; writes checkpoints, log, plot, resolved config and metrics."""
        if config_file is not None and config is not None and config_file != config:
            raise typer.BadParameter(f"two configs given ({config_file} and --config {config}); give one")
        config = config or config_file
        if print_config:
            from pixelseg.workflow.train_config import config_text

            typer.echo(config_text(config, overrides or ()), nl=False)
            return
        if config is None:
            raise typer.BadParameter("give the YAML with --config train.yaml (pixelseg train --print-config "
                                     "prints a template)", param_hint="'--config'")
        from pixelseg.workflow.train import run_train_config

        run_train_config(config, overrides or (), output=output, overwrite=overwrite, resume=resume)
