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
        resume: Path = typer.Option(None, "--resume", help="Continue a stopped run: its run folder (the newest "
                                    "checkpoint in RUN/checkpoints is used) or one checkpoint file; the run folder "
                                    "defaults to that run's."),
    ) -> None:
        """Train a network as the config says; writes checkpoints, log, plot, resolved config and metrics."""
        from pixelseg.training.job import latest_checkpoint, load_job, run_train_job

        overrides = list(overrides or [])
        if resume is not None and resume.is_dir():
            output = output or resume
            resume = latest_checkpoint(resume)
            typer.echo(f"resuming from {resume}")
        if resume is not None:
            overrides.append(f"options.resume_from={resume.resolve()}")
            if output is None and resume.resolve().parent.name == "checkpoints":
                output = resume.resolve().parent.parent
        job = load_job(config, overrides)
        run_train_job(job, output or Path("runs") / time.strftime("train-%Y%m%d-%H%M%S"),
                      overwrite=overwrite or resume is not None, echo=typer.echo)
