"""Errors that pixelseg raises for bad input.

Every error names the offending file, argument or value in one clear sentence. The CLI
prints ``PixelsegError`` messages without a traceback (unless ``--debug``).
"""


class PixelsegError(Exception):
    """Base class of every error pixelseg raises on purpose."""


class DataError(PixelsegError, ValueError):
    """A data file or folder is missing, unreadable, or holds values it must not hold."""


class ConfigurationError(PixelsegError, ValueError):
    """An argument or option has a value that is not allowed; the message names both."""
