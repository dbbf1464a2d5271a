"""The jobs: what each ``pixelseg`` command does, in terms of the stages below (data, models,
checkpoint, training, evaluation, inference, export). Each is a plain function with typed
arguments that reports through an ``echo`` callable (by default its module's logger, a child
of ``"pixelseg"``: :mod:`pixelseg.utils.log`), so it runs from Python as well:

- :mod:`pixelseg.workflow.train_config`: ``train.yaml`` (``TrainJob``, ``load_job``, overrides).
- :mod:`pixelseg.workflow.train`: ``run_train_job``, ``run_train_config`` (``pixelseg train``).
- :mod:`pixelseg.workflow.demo`: ``run_demo`` (``pixelseg demo``): the train job on CamVid, then pictures.
- :mod:`pixelseg.workflow.predict`: ``run_predict`` (``pixelseg predict``).
- :mod:`pixelseg.workflow.evaluate`: ``run_evaluate`` (``pixelseg evaluate``).
- :mod:`pixelseg.workflow.info`: ``run_info`` (``pixelseg info``).
- :mod:`pixelseg.workflow.export`: ``run_export`` (``pixelseg export``).
- :mod:`pixelseg.workflow.pictures`: the demo's overlay figures.
"""

from __future__ import annotations

from pixelseg.utils.lazy import lazy_exports

_EXPORTS = {
    "TrainJob": "pixelseg.workflow.train_config",
    "load_job": "pixelseg.workflow.train_config",
    "run_train_job": "pixelseg.workflow.train",
    "run_train_config": "pixelseg.workflow.train",
    "latest_checkpoint": "pixelseg.workflow.train",
    "DemoConfig": "pixelseg.workflow.demo",
    "run_demo": "pixelseg.workflow.demo",
    "run_predict": "pixelseg.workflow.predict",
    "run_evaluate": "pixelseg.workflow.evaluate",
    "run_info": "pixelseg.workflow.info",
    "run_export": "pixelseg.workflow.export",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
