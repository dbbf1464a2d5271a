"""``pixelseg train [--config] train.yaml``, ``pixelseg train --data DIR --time-budget 30m`` or
``pixelseg train --resume-from-labels LABELS --images IMAGES --model NET.ckpt``: arguments of
:func:`pixelseg.workflow.train_command.run_train_command`."""

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
        labels: Path = typer.Option(None, "--resume-from-labels", help="Instead: fine-tune --model on the labels "
                                    "saved so far by pixelseg label in this folder (images from --images)."),
        images: Path = typer.Option(None, "--images", help="With --resume-from-labels: the labeler's images folder."),
        model: Path = typer.Option(None, "--model", help="With --resume-from-labels: the network to fine-tune."),
        time_budget: str = typer.Option(None, "--time-budget", help="Wall time for the whole job, e.g. 10m, "
                                        "1h30m: with --data (default 30m), with a config (its epochs are fit to it) "
                                        "or with --resume-from-labels (5m)."),
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
        """Train a network as the config says, as the automatic recipe chooses within a time budget (--data),
        or fine-tune the labeler's network on its labels; writes checkpoints, log, plot, config and metrics."""
        if config_file is not None and config is not None and config_file != config:
            raise usage_error(f"two configs given ({config_file} and --config {config}); give one")
        if not (config or config_file or data or labels or print_config or resume):
            raise usage_error("give either --config FILE (a train.yaml; --print-config prints a template), --data DIR "
                              "(automatic recipe) or --resume-from-labels LABELS --images IMAGES --model NET.ckpt")
        from pixelseg.workflow.train_command import run_train_command

        run_train_command(config or config_file, data, labels, images, model, classes, time_budget, domain,
                          overrides or (), output, overwrite, resume, print_config, echo=typer.echo)
