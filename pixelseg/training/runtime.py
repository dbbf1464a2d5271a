"""What ``train_network`` sets around Lightning's ``fit``: quiet Lightning logs and warnings,
and the SIGINT handler put back afterwards."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import warnings

__all__ = ["quiet_lightning", "sigint_handler", "restore_sigint"]


def sigint_handler():
    """The current SIGINT handler (None outside the main thread)."""
    return signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None


def restore_sigint(handler) -> None:
    """Put back ``handler`` (from :func:`sigint_handler`); Lightning ignores SIGINT after a Ctrl-C."""
    if handler is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)


@contextlib.contextmanager
def quiet_lightning():
    """Silence Lightning's info chatter (GPU available..., fit stopped...) and hint warnings."""
    from lightning.fabric.utilities.warnings import PossibleUserWarning

    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric", "lightning")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=PossibleUserWarning)
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*LeafSpec.*")
            # A checkpoint of the legacy layout (pixelseg.checkpoint.legacy_recorder_state) is read anyway.
            warnings.filterwarnings("ignore", message=r".*Please add the following callbacks: \['TrainingRecorder'\]\.")
            # Resuming into the run's own checkpoint folder.
            warnings.filterwarnings("ignore", message=r".*Checkpoint directory .* exists and is not empty")
            # A checkpoint of a run with other checkpoint settings (keep_checkpoints, best.ckpt).
            warnings.filterwarnings("ignore", message=r".*Please add the following callbacks: \['ModelCheckpoint")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
