"""MkDocs hook: writes the command-line reference into ``cli.md`` from the real ``--help`` texts.

The page holds the marker ``<!-- cli-reference -->``; at build time it is replaced by one
section per ``pixelseg`` command: its one-line description and the text that
``pixelseg COMMAND --help`` prints (rendered 100 columns wide, no colour), so the reference
always matches the installed command line. The project root goes first on ``sys.path`` so
that the build documents this checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

MARKER = "<!-- cli-reference -->"
ROOT = Path(__file__).resolve().parents[2]
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}


def help_text(args: list[str]) -> str:
    """What ``pixelseg *args --help`` prints, without trailing blanks."""
    from typer.testing import CliRunner

    from pixelseg.cli import app

    result = CliRunner().invoke(app, [*args, "--help"], prog_name="pixelseg", env=ENV)
    if result.exit_code != 0:
        raise RuntimeError(f"pixelseg {' '.join(args)} --help failed: {result.output}")
    return "\n".join(line.rstrip() for line in result.output.splitlines()).strip("\n")


def command_names() -> list[str]:
    """The names of the ``pixelseg`` commands, in the order they are registered."""
    import typer.main

    from pixelseg.cli import app

    return list(typer.main.get_command(app).commands)


def cli_reference() -> str:
    """The Markdown reference: ``pixelseg --help``, then one section per command."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    lines = ["## `pixelseg`", "", "```text", help_text([]), "```", ""]
    for name in command_names():
        lines += [f"## `pixelseg {name}`", "", "```text", help_text([name]), "```", ""]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:
    """MkDocs hook: fill in the marker of the command-line page."""
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
