"""The ``pixelseg`` command line (typer).

Each command is parsed in its own module (``pixelseg/cli/<command>.py`` defines
``register(app)``) and runs one job of :mod:`pixelseg.workflow` (``label`` runs the labeling
server, ``info`` the dataset report). Status messages go to the ``pixelseg`` logger, shown
on stderr (``--quiet``: warnings and errors only, ``--verbose``: debug); a command's result
(``info``'s report, ``evaluate``'s metrics) is printed on stdout. Errors that pixelseg raises on
purpose (:class:`pixelseg.errors.PixelsegError`, and missing files) are printed as one
sentence with exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys

import typer

from pixelseg.cli._support import is_click as _is_click
from pixelseg.cli._support import print_version as _print_version
from pixelseg.errors import PixelsegError
from pixelseg.utils.log import cli_level, restored_logging, setup_logging

app = typer.Typer(
    name="pixelseg",
    help="Semantic segmentation: label, read data, train, evaluate, predict, export.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

__all__ = ["app", "main"]

_COMMAND_MODULES = ("demo", "info", "train", "evaluate", "predict", "export", "label", "models")


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Show warnings and errors only."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug messages too."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """pixelseg: semantic segmentation for the whole workflow."""
    _STATE["debug"] = debug
    setup_logging(cli_level(quiet, verbose))


_STATE = {"debug": False}

for _name in _COMMAND_MODULES:
    importlib.import_module(f"pixelseg.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``pixelseg`` console script."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        with restored_logging(exclusive=True):
            code = app(args=argv, standalone_mode=False)
    except (PixelsegError, FileNotFoundError, FileExistsError, NotADirectoryError) as exc:
        if debug:
            raise
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as exc:  # usage errors and aborts of click (or typer's own copy of it)
        if _is_click(exc, "ClickException"):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if _is_click(exc, "Abort"):
            raise SystemExit(1) from None
        raise
    if isinstance(code, int) and code != 0:  # typer.Exit(code) returns it in this mode
        raise SystemExit(code)
