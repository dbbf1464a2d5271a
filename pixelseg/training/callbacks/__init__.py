"""The Lightning callbacks of ``train_network``; each gets only the settings it uses.

- :class:`HistoryRecorder` (:mod:`.history`): the training history (one row per iteration
  and per validation), ``training_log.csv``, ``training_progress.png``, TensorBoard scalars,
  one summary line per validation, and the history inside every checkpoint.
- :class:`ValidationSelection` (:mod:`.selection`): ``validation_patience`` (early stopping)
  and the weights that ``output_network`` asks for.
- :class:`FaultCheckpoint` (:mod:`.fault`): ``last-good.ckpt`` after a NaN loss,
  ``interrupted.ckpt`` after Ctrl-C.
- :class:`ProgressBar` (:mod:`.progress`): Lightning's tqdm bar with the recorder's latest values.

Import them from their modules (``from pixelseg.training.callbacks.history import
HistoryRecorder``); they need Lightning, which only ``train_network`` loads.
"""
