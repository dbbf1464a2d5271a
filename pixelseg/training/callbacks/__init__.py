"""The Lightning callbacks of ``train_network``; each gets only the settings it uses.

- :class:`HistoryRecorder` (:mod:`.history`): the training history (one row per iteration
  and per validation), ``training_log.csv``, ``training_progress.png``, the rows sent to the
  trainer's loggers, one summary line per validation, and the history inside every checkpoint.
- :class:`ValidationSelection` (:mod:`.selection`): ``validation_patience`` (early stopping)
  and the weights that ``output_network`` asks for.
- :class:`FaultCheckpoint` (:mod:`.fault`): ``last-good.ckpt`` after a NaN loss,
  ``interrupted.ckpt`` after Ctrl-C.
- :class:`PreciseBatchNorm` (:mod:`.precise_bn`): batch-norm statistics recomputed before
  each validation and at the end (``precise_batch_norm``).
- :func:`checkpoint_callbacks` (:mod:`.checkpoints`): the periodic checkpoints (the
  ``keep_checkpoints`` most recent), ``last.ckpt`` and ``best.ckpt``.
- :class:`FitToMaxTime` (:mod:`.time_fit`): ``fit_to_max_time``, the run's epochs re-planned
  after the first epoch to end within ``max_time``.
- :class:`ProgressBar` (:mod:`.progress`): Lightning's tqdm bar with the recorder's latest values.

They need Lightning, which only ``train_network`` loads: the names are imported lazily.
"""

from __future__ import annotations

from pixelseg.utils.lazy import lazy_exports

_EXPORTS = {
    "HistoryRecorder": "pixelseg.training.callbacks.history",
    "ValidationSelection": "pixelseg.training.callbacks.selection",
    "FaultCheckpoint": "pixelseg.training.callbacks.fault",
    "ProgressBar": "pixelseg.training.callbacks.progress",
    "PreciseBatchNorm": "pixelseg.training.callbacks.precise_bn",
    "FitToMaxTime": "pixelseg.training.callbacks.time_fit",
    "checkpoint_callbacks": "pixelseg.training.callbacks.checkpoints",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
