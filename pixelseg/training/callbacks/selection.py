"""``ValidationSelection``: early stopping (``validation_patience``) and the best weights."""

from __future__ import annotations

import logging
import math
from typing import Any

import lightning.pytorch as pl
import torch

from pixelseg.checkpoint import legacy_recorder_state

_log = logging.getLogger(__name__)

__all__ = ["ValidationSelection"]


class ValidationSelection(pl.Callback):
    """After each validation: count validations without a better loss, keep the chosen weights.

    A validation whose loss is not below the best so far counts as bad; ``patience`` bad
    validations in a row stop the run (MATLAB's ``ValidationPatience``). The weights are
    copied to the CPU when the validation loss improves (``"best-validation-loss"``) or
    ``objective_metric`` improves (``"best-validation-metric"``). The counters and the
    weights are part of every checkpoint, so a resumed run takes the same decisions.

    Args:
        output_network: ``"last-iteration"`` (nothing is kept), ``"best-validation-loss"`` or
            ``"best-validation-metric"``.
        objective_metric: ``"mean_iou"`` or ``"global_accuracy"``.
        patience: bad validations before stopping, or None (never stop).
        verbose: log a line (INFO, ``pixelseg.training...``) when the run stops early.

    Attributes:
        best_state: the kept weights (state dict of CPU tensors) or None.
        best_iteration: the iteration they come from, or None.
        stopped_early: True when the patience ran out.
    """

    def __init__(self, output_network: str = "last-iteration", objective_metric: str = "mean_iou",
                 patience: int | None = None, verbose: bool = False) -> None:
        self.output_network = output_network
        self.objective_metric = objective_metric
        self.patience = patience
        self.verbose = verbose
        self.best_loss = math.inf
        self.best_metric = -math.inf
        self.bad_validations = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_iteration: int | None = None
        self.validated_at: int | None = None
        self.stopped_early = False

    # ---- state saved in checkpoints ---------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"best_loss": self.best_loss, "best_metric": self.best_metric,
                "bad_validations": self.bad_validations, "best_state": self.best_state,
                "best_iteration": self.best_iteration, "validated_at": self.validated_at}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_loss = state.get("best_loss", math.inf)
        self.best_metric = state.get("best_metric", -math.inf)
        self.bad_validations = state.get("bad_validations", 0)
        self.best_state = state.get("best_state")
        self.best_iteration = state.get("best_iteration")
        self.validated_at = state.get("validated_at")

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        # Lightning calls load_state_dict afterwards only when the checkpoint has this
        # callback's own state; a checkpoint of the legacy layout has it under another key.
        legacy = legacy_recorder_state(checkpoint)
        if legacy is not None and self.state_key not in (checkpoint.get("callbacks") or {}):
            validations = [r["iteration"] for r in legacy.get("rows", []) if r["phase"] == "validation"]
            self.load_state_dict({**legacy, "validated_at": validations[-1] if validations else None})

    # ---- decisions --------------------------------------------------------------------------
    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or trainer.state.fn != "fit":
            return
        result = pl_module.validation_result()  # every process calls it (it sums over processes)
        iteration = int(trainer.global_step)
        if iteration == self.validated_at:
            return  # already validated at this iteration (e.g. resumed right after a validation)
        self.validated_at = iteration
        improved_loss = result["loss"] < self.best_loss
        if improved_loss:
            self.best_loss = result["loss"]
            self.bad_validations = 0
        else:
            self.bad_validations += 1
        metric = result[self.objective_metric]
        improved_metric = not math.isnan(metric) and metric > self.best_metric
        if improved_metric:
            self.best_metric = metric
        keep = (self.output_network == "best-validation-loss" and improved_loss) or (
            self.output_network == "best-validation-metric" and improved_metric)
        if keep:
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in pl_module.network.state_dict().items()}
            self.best_iteration = iteration
        patience = self.patience
        if patience is not None and self.bad_validations >= patience and not trainer.should_stop:
            self.stopped_early = True
            trainer.should_stop = True
            if self.verbose and trainer.is_global_zero:
                _log.info(f"validation loss has not improved on {self.best_loss:.4g} for {patience} "
                          f"validations: stopping at iteration {iteration} (validation_patience={patience})")
