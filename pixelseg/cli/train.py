"""``pixelseg train --config train.yaml``: one YAML (data, classes, network, options) -> a run folder."""

from __future__ import annotations

import time
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""

    @app.command("train")
    def train(
        config: Path = typer.Option(..., "--config", "-c", help="YAML with data, classes, class_weights, network, options "
                                    "(see pixelseg.training.job)."),
        overrides: list[str] = typer.Option(None, "--set", "-s", help="Override a field: key.sub=value (YAML value), "
                                            "e.g. --set options.max_epochs=3; repeatable."),
        output: Path = typer.Option(None, "--output", "-o", help="Run folder (default: runs/train-<time>); must be "
                                    "new or empty."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Allow writing into a non-empty run folder."),
        resume: Path = typer.Option(None, "--resume", help="Continue a stopped run: its run folder (the "
                                    "furthest-trained readable checkpoint in RUN/checkpoints is used), a folder of "
                                    "checkpoints, or one checkpoint file; the output defaults to that run's folder."),
    ) -> None:
        """Train a network as the config says; writes checkpoints, log, plot, resolved config and metrics."""
        from pixelseg.training.job import latest_checkpoint, load_job, run_train_job

        overrides = list(overrides or [])
        own_run = None
        if resume is not None:
            if resume.is_dir():
                resume = latest_checkpoint(resume)
                typer.echo(f"resuming from {resume}")
            resume = resume.resolve()
            overrides.append(f"options.resume_from={resume}")
            if resume.parent.name == "checkpoints":
                own_run = resume.parent.parent
                output = output or own_run
        job = load_job(config, overrides)
        output = output or Path("runs") / time.strftime("train-%Y%m%d-%H%M%S")
        # Resuming writes into the run's own (non-empty) folder; any other folder is protected as usual.
        into_own_run = own_run is not None and output.resolve() == own_run
        run_train_job(job, output, overwrite=overwrite or into_own_run, echo=typer.echo)
