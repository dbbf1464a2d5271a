"""The LightningModule that trains a segmentation network.

It owns the network, the loss, the optimizer and schedule, and computes per-iteration
training statistics without a host-device sync (the loss and a K x K mini-batch confusion
matrix stay on the device until :meth:`SegmentationTask.drain_iterations` moves them to the
host, which the history callback does every ``verbose_frequency`` iterations). Validation
metrics come from :class:`pixelseg.evaluation.ConfusionMatrixAccumulator`. The task ends the
run after ``max_epochs`` with one more validation (as MATLAB validates at the end).
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from pixelseg.conventions import VOID
from pixelseg.errors import DataError
from pixelseg.training.faults import TrainingDivergedError
from pixelseg.training.guard import DivergenceGuard
from pixelseg.training.metrics import batch_confusion, confusion_metrics
from pixelseg.training.schedules import LearnRateSchedule

__all__ = ["SegmentationTask", "ScheduleLR", "build_optimizer"]


def build_optimizer(parameters, options) -> torch.optim.Optimizer:
    """The optimizer of ``options.solver`` with MATLAB's hyper-parameter names.

    sgdm: ``SGD(momentum, weight_decay=l2_regularization)``; adam: ``Adam(betas=(gradient_decay_factor,
    squared_gradient_decay_factor), eps=epsilon, weight_decay=l2)``; adamw: ``AdamW`` (decoupled decay);
    rmsprop: ``RMSprop(alpha=squared_gradient_decay_factor, eps=epsilon)``.
    """
    lr, l2 = options.initial_learn_rate, options.l2_regularization
    betas = (options.gradient_decay_factor, options.squared_gradient_decay_factor)
    if options.solver == "sgdm":
        return torch.optim.SGD(parameters, lr=lr, momentum=options.momentum, weight_decay=l2)
    if options.solver == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=betas, eps=options.epsilon, weight_decay=l2)
    if options.solver == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, eps=options.epsilon, weight_decay=l2)
    return torch.optim.RMSprop(parameters, lr=lr, alpha=options.squared_gradient_decay_factor,
                               eps=options.epsilon, weight_decay=l2)


class ScheduleLR(torch.optim.lr_scheduler.LambdaLR):
    """``LambdaLR`` whose checkpoints keep the iteration count but not the schedule's settings.

    The schedule is a pure function of the options, so a resumed run with the same options
    continues the same curve, and a run resumed with more ``max_epochs`` stretches the
    schedule to the new length instead of keeping the old one.
    """

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [None] * len(self.lr_lambdas)
        return state


class SegmentationTask(pl.LightningModule):
    """Lightning wrapper of a segmentation network (N x C x H x W float in [0, 1] -> N x K x H x W logits).

    Args:
        network: a ``SegmentationNetwork`` (any nn.Module with ``num_classes``).
        options: :class:`TrainingOptions`.
        loss: loss module (logits, int64 labels with void 255) -> scalar.
        schedule: learning-rate factor per iteration.
        metadata: what checkpoints carry besides the weights (network config, class set,
            options, normalisation); stored under ``checkpoint["pixelseg"]``, next to the
            history that the history callback adds.
        teacher: a :class:`pixelseg.training.distillation.DistillationTeacher` whose term is
            added to the training loss (not to the validation loss), or None.
    """

    def __init__(self, network: nn.Module, options, loss: nn.Module, schedule: LearnRateSchedule,
                 metadata: dict[str, Any], teacher=None) -> None:
        super().__init__()
        self.network = network
        self.teacher = teacher  # a plain object, not a submodule: its weights stay out of checkpoints
        self.loss_fn = loss
        self.options = options
        self.schedule = schedule
        self.metadata = metadata
        self.num_classes = int(network.num_classes)
        self.guard = DivergenceGuard(network)
        self.memory_format = torch.channels_last if options.channels_last else torch.contiguous_format
        # Per-iteration values kept on the device until drain_iterations() takes them.
        self._pending: list[tuple[int, int, float, torch.Tensor, torch.Tensor]] = []
        self.validation_accumulator = None
        self._validation_loss = None
        self._validation_weight = 0
        self._validation_result: dict[str, float] | None = None

    # ---- forward and steps -----------------------------------------------------------------
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network(images)

    def setup(self, stage: str) -> None:
        if self.options.channels_last:
            self.network.to(memory_format=torch.channels_last)

    def on_fit_start(self) -> None:
        if self.teacher is not None:
            self.teacher.to(self.device, self.memory_format)

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        try:
            return self.loss_fn(logits, labels)
        except (IndexError, RuntimeError) as exc:
            if "out of bounds" not in str(exc) and "index" not in str(exc).lower():
                raise
            values = torch.unique(labels)
            bad = values[(values != VOID) & ((values < 0) | (values >= self.num_classes))]
            raise DataError(
                f"a mini-batch at iteration {self.global_step + 1} holds label value(s) {bad.tolist()} but the "
                f"network has {self.num_classes} classes (0..{self.num_classes - 1}; void {VOID})"
            ) from exc

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        images, labels = batch
        images = images.contiguous(memory_format=self.memory_format)
        self.guard.before_forward(images)
        logits = self.network(images)
        loss = self._loss(logits, labels)
        if self.teacher is not None:
            loss = loss + self.teacher.term(logits, images, labels)
        # One sync per step: a NaN must stop training before it reaches the weights, and the
        # batch-norm statistics this forward pass changed must not be kept (see guard.py).
        if not self.guard.is_finite(loss):
            value = float(loss.detach())
            self.guard.restore_last_good(images, self.trainer.optimizers[0] if self.trainer.optimizers else None)
            raise TrainingDivergedError(
                f"non-finite loss {value} at iteration {self.global_step + 1} (epoch {self.current_epoch + 1})",
                value=value, iteration=self.global_step + 1, epoch=self.current_epoch + 1,
            )
        learn_rate = self.trainer.optimizers[0].param_groups[0]["lr"]
        self._pending.append((self.global_step + 1, self.current_epoch + 1, learn_rate, loss.detach(),
                             batch_confusion(logits, labels)))
        return loss

    @property
    def pending_iterations(self) -> int:
        """How many iterations' values wait on the device for :meth:`drain_iterations`."""
        return len(self._pending)

    def drain_iterations(self) -> list[dict[str, Any]]:
        """The training history rows of the iterations since the last call (one host transfer).

        Returns one dict per iteration with the columns of
        :data:`pixelseg.checkpoint.HISTORY_COLUMNS` (phase ``"train"``; loss and the metrics of
        the mini-batch as Python floats); an empty list when nothing is pending.
        """
        if not self._pending:
            return []
        iterations, epochs, rates, losses, confusions = zip(*self._pending)
        self._pending.clear()
        losses = torch.stack(losses).float().cpu().numpy()
        k = self.num_classes
        matrices = torch.stack(confusions).cpu().numpy().reshape(-1, k, k)
        accuracy, mean_iou = confusion_metrics(matrices)
        return [{"iteration": it, "epoch": epochs[i], "phase": "train", "loss": float(losses[i]),
                 "global_accuracy": float(accuracy[i]), "mean_iou": float(mean_iou[i]),
                 "learn_rate": float(rates[i])} for i, it in enumerate(iterations)]

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        if self.trainer.global_step >= self.schedule.total_iterations:
            # The last iteration: asking to stop makes Lightning validate once more (MATLAB
            # validates at the end of training) and then end the run.
            self.trainer.should_stop = True

    def on_validation_epoch_start(self) -> None:
        from pixelseg.evaluation import ConfusionMatrixAccumulator

        self.validation_accumulator = ConfusionMatrixAccumulator(self.num_classes, void=VOID, device=self.device)
        self._validation_loss = torch.zeros((), device=self.device)
        self._validation_weight = 0
        self._validation_result = None

    def validation_step(self, batch, batch_idx: int) -> None:
        images, labels = batch
        images = images.contiguous(memory_format=self.memory_format)
        logits = self.network(images)
        self._validation_loss += self._loss(logits, labels).detach() * images.shape[0]
        self._validation_weight += images.shape[0]
        self.validation_accumulator.update(logits.argmax(1), labels)

    def on_validation_epoch_end(self) -> None:
        # For the callbacks that monitor a metric (best.ckpt): val_loss, val_global_accuracy, val_mean_iou.
        self.log_dict({f"val_{k}": v for k, v in self.validation_result().items()}, logger=False)

    def validation_result(self) -> dict[str, float]:
        """Loss (mean over images of the mini-batch losses) and metrics of the last validation.

        In multi-process runs the confusion matrices and loss sums of all processes are
        summed first (every process must call this), so all processes get the same numbers.
        Computed once per validation; later calls return the same dict.
        """
        if self._validation_result is not None:
            return dict(self._validation_result)
        from pixelseg.evaluation import dataset_metrics_from_confusion

        confusion = torch.as_tensor(self.validation_accumulator.confusion_matrix, device=self.device)
        totals = torch.stack([self._validation_loss.double(),
                              torch.tensor(float(self._validation_weight), dtype=torch.float64, device=self.device)])
        if self.trainer.world_size > 1:
            confusion = self.trainer.strategy.reduce(confusion, reduce_op="sum")
            totals = self.trainer.strategy.reduce(totals, reduce_op="sum")
        metrics = dataset_metrics_from_confusion(confusion.cpu().numpy())
        loss = float(totals[0]) / max(1.0, float(totals[1]))
        self._validation_result = {"loss": loss, "global_accuracy": float(metrics["global_accuracy"]),
                                   "mean_iou": float(metrics["mean_iou"])}
        return dict(self._validation_result)

    # ---- optimisation -----------------------------------------------------------------------
    def configure_optimizers(self):
        optimizer = build_optimizer(self.network.parameters(), self.options)
        scheduler = ScheduleLR(optimizer, self.schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1}}

    def set_length(self, total_iterations: int) -> None:
        """End the run after ``total_iterations`` optimizer steps; the learning-rate schedule spans them."""
        self.schedule.total_iterations = int(total_iterations)

    def on_train_start(self) -> None:
        # The trainer's length (``max_epochs``, or what a callback such as FitToMaxTime set it to)
        self.set_length(int(self.trainer.num_training_batches) * int(self.trainer.max_epochs))
        # After a resume the optimizer and the scheduler hold the learning rates of the old run:
        # apply the current options' schedule at the restored iteration (a no-op with unchanged
        # options; a smaller initial_learn_rate after a divergence takes effect).
        for config in self.trainer.lr_scheduler_configs:
            scheduler = config.scheduler
            scheduler.base_lrs = [self.options.initial_learn_rate] * len(scheduler.optimizer.param_groups)
            for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
                group["lr"] = base * self.schedule(scheduler.last_epoch)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        threshold, method = self.options.gradient_threshold, self.options.gradient_threshold_method
        if threshold is None:
            return
        parameters = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if method == "global-l2norm":
            nn.utils.clip_grad_norm_(parameters, threshold)
        elif method == "absolute-value":
            nn.utils.clip_grad_value_(parameters, threshold)
        else:  # MATLAB "l2norm": each learnable parameter tensor separately
            for p in parameters:
                nn.utils.clip_grad_norm_([p], threshold)

    # ---- checkpoints ------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Callbacks run first: the history callback may have put the history there already.
        checkpoint.setdefault("pixelseg", {}).update(self.metadata)

