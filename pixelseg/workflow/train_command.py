"""``pixelseg train``'s three modes: a config, a folder (automatic recipe), or the labeler's labels
(fine-tuning its network), and ``--print-config``; which one the arguments ask for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pixelseg.errors import ConfigurationError

__all__ = ["run_train_command", "saved_run_config"]


def run_train_command(config: Path | None = None, data: Path | None = None, labels: Path | None = None,
                      images: Path | None = None, model: Path | None = None, classes: Path | None = None,
                      time_budget: str | None = None, domain: str = "auto", overrides: Sequence[str] = (),
                      output: Path | None = None, overwrite: bool = False, resume: Path | None = None,
                      print_config: bool = False, echo: Callable[[str], None] = print) -> None:
    """Run what the ``pixelseg train`` arguments ask for.

    - ``config``: :func:`pixelseg.workflow.train.run_train_config` (``--set``, ``--resume``;
      ``resume`` alone reads the config the stopped run saved, ``RUN/config.yaml``);
      with ``time_budget``, :func:`pixelseg.workflow.auto_train.run_config_within_budget` (its
      epochs fit to the budget); with ``print_config``, print the resolved YAML instead (the
      defaults without a config).
    - ``data``: :func:`pixelseg.workflow.auto_train.run_auto_train` (``classes``, ``domain``,
      ``time_budget``, default 30 minutes).
    - ``labels`` with ``images`` and ``model``: :func:`pixelseg.workflow.label_loop.run_label_loop`
      (``time_budget``, default 5 minutes).

    Raises:
        ConfigurationError: none or more than one mode, a mode's arguments missing, or options
            that belong to another mode (each named).
    """
    if print_config and data is None and labels is None:  # the config resolved, or the defaults
        from pixelseg.workflow.train_config import config_text

        echo(config_text(config, overrides).rstrip("\n"))
        return
    if config is None and resume is not None and data is None and labels is None:
        config = saved_run_config(Path(resume))
    modes = [name for name, value in (("a config", config), ("--data", data), ("--resume-from-labels", labels))
             if value is not None]
    if len(modes) != 1:
        raise ConfigurationError(
            "give either --config FILE (a train.yaml; --print-config prints a template), --data DIR (a dataset "
            "folder, automatic recipe) or --resume-from-labels LABELS --images IMAGES --model NET.ckpt"
            + (f"; got {' and '.join(modes)}" if modes else "")
        )
    automatic = config is None
    misplaced = [flag for flag, given in (("--set", bool(overrides) and automatic), ("--resume", resume and automatic),
                                          ("--print-config", print_config and automatic),
                                          ("--time-budget with --resume", time_budget and resume),
                                          ("--classes", classes is not None and data is None)) if given]
    if misplaced:
        verb = "does" if len(misplaced) == 1 else "do"
        raise ConfigurationError(f"{', '.join(misplaced)} {verb} not apply to {modes[0]}")
    if config is not None:
        if time_budget:
            from pixelseg.workflow.auto_train import run_config_within_budget

            run_config_within_budget(config, time_budget, overrides, output=output, overwrite=overwrite)
            return
        from pixelseg.workflow.train import run_train_config

        run_train_config(config, overrides, output=output, overwrite=overwrite, resume=resume)
    elif data is not None:
        from pixelseg.workflow.auto_train import run_auto_train

        run_auto_train(data, classes, time_budget or "30m", domain, output=output, overwrite=overwrite)
    else:
        if images is None or model is None:
            raise ConfigurationError("--resume-from-labels needs --images (the labeler's images folder) and --model "
                                     "(the network it pre-labels with)")
        from pixelseg.workflow.label_loop import run_label_loop

        run_label_loop(labels, images, model, time_budget or "5m", output=output, overwrite=overwrite)


def saved_run_config(resume: Path) -> Path:
    """The ``config.yaml`` a run saved in its folder, for ``--resume`` without ``--config``.

    Args:
        resume: the run folder, its ``checkpoints`` folder, or one checkpoint file in it.

    Raises:
        ConfigurationError: no ``config.yaml`` in the run folder (the path named; give ``--config``).
    """
    resume = Path(resume)
    run = resume if resume.is_dir() else resume.parent
    if run.name == "checkpoints" and not (run / "config.yaml").is_file():
        run = run.parent
    saved = run / "config.yaml"
    if not saved.is_file():
        raise ConfigurationError(f"--resume {resume}: no config.yaml in the run folder {run} to continue with; give "
                                 "the run's config with --config FILE")
    return saved
