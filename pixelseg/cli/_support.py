"""Small helpers of the command line: ``--version`` and recognising click's exceptions."""

from __future__ import annotations

import typer


def print_version(value: bool) -> None:
    """The eager ``--version`` callback: print ``pixelseg <version>`` and exit 0."""
    if value:
        from pixelseg import __version__

        typer.echo(f"pixelseg {__version__}")
        raise typer.Exit()


def is_click(exc: BaseException, name: str) -> bool:
    """``exc`` is click's exception class ``name`` (or a subclass), from click or from the copy
    of click that typer ships (typer 0.29+): matched by class name, not by module."""
    return any(cls.__name__ == name and "click" in cls.__module__ for cls in type(exc).__mro__)


def usage_error(message: str) -> Exception:
    """click's ``UsageError`` (exit code 2, "Error: <message>" under the usage line), taken
    from typer's own click (``BadParameter``'s base class) whichever copy typer ships."""
    return typer.BadParameter.__base__(message)
