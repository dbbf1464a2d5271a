"""pixelseg's messages: the ``"pixelseg"`` logger and its console handler.

Every module logs through ``logging.getLogger(__name__)`` (``pixelseg.workflow.train``,
``pixelseg.training.callbacks.history``...), children of ``"pixelseg"``, so one setting
quietens or details all of them::

    logging.getLogger("pixelseg").setLevel(logging.WARNING)   # warnings and errors only

The command line calls :func:`setup_logging` (``pixelseg -q``: warnings and errors,
``pixelseg -v``: debug). ``train_network(verbose=True)`` calls :func:`ensure_console_handler`,
which adds the same handler only when logging is not configured at all, so a plain script
still sees the training lines.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

__all__ = ["LOGGER_NAME", "ConsoleHandler", "setup_logging", "ensure_console_handler", "restored_logging",
           "cli_level"]

LOGGER_NAME = "pixelseg"


class ConsoleHandler(logging.Handler):
    """Writes each record as one line to the current ``sys.stderr``, above any tqdm progress
    bar (through ``tqdm.write``); INFO as the bare message, other levels prefixed
    (``warning: ...``, ``debug: pixelseg.x: ...``)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # logging must never raise
            self.handleError(record)

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno == logging.INFO:
            return message
        if record.levelno < logging.INFO:
            return f"debug: {record.name}: {message}"
        return f"{record.levelname.lower()}: {message}"


def setup_logging(level: int = logging.INFO) -> ConsoleHandler:
    """Send the ``"pixelseg"`` messages of ``level`` and above to the console (stderr);
    replaces the handler of an earlier call. Returns the handler."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if isinstance(h, ConsoleHandler)]:
        logger.removeHandler(handler)
    handler = ConsoleHandler()
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler


def ensure_console_handler() -> None:
    """:func:`setup_logging` at INFO when no handler would receive ``"pixelseg"``'s records
    (neither on its loggers nor on the root logger); otherwise nothing."""
    if not logging.getLogger(LOGGER_NAME).hasHandlers():
        setup_logging(logging.INFO)


def cli_level(quiet: bool = False, verbose: bool = False) -> int:
    """The level of the command line's ``--quiet`` (WARNING), ``--verbose`` (DEBUG), else INFO.

    Raises:
        ConfigurationError: both are given.
    """
    if quiet and verbose:
        from pixelseg.errors import ConfigurationError

        raise ConfigurationError("--quiet and --verbose contradict each other; give one")
    return logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO


@contextlib.contextmanager
def restored_logging(exclusive: bool = False) -> Iterator[None]:
    """Put the ``"pixelseg"`` logger's level, handlers and propagation back as they were on
    leaving (so ``pixelseg.cli.main`` called from Python leaves no console handler behind).
    ``exclusive`` (the command line): inside the block the messages do not also go to the
    root logger, whose handler a library may set up (onnxruntime's quantizer calls
    ``logging.basicConfig``), so each is printed once."""
    logger = logging.getLogger(LOGGER_NAME)
    level, handlers, propagate = logger.level, list(logger.handlers), logger.propagate
    if exclusive:
        logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate
        for handler in list(logger.handlers):
            if handler not in handlers:
                logger.removeHandler(handler)
