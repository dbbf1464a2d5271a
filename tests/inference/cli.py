"""Running ``pixelseg`` in this process, as the console script does."""

from __future__ import annotations


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``pixelseg.cli.main(args)``."""
    from pixelseg.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
