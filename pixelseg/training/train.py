"""``train_network``: MATLAB ``trainnet`` for segmentation, on a Lightning ``Trainer``.

Scale-out
---------
``execution_environment="multi-gpu"`` trains with DDP on all GPUs of the machine
(``devices`` to choose how many) and, with ``num_nodes=N``, of N machines. Lightning
starts one process per GPU itself when the script is run with plain ``python``; on a
cluster, start the processes with ``torchrun`` or SLURM and Lightning joins them:

* torchrun, on each of 2 machines with 4 GPUs each (``--node_rank`` 0 and 1)::

      torchrun --nnodes 2 --nproc_per_node 4 --node_rank 0 \\
          --master_addr node0.example.org --master_port 29500 train.py
      # train.py: TrainingOptions(execution_environment="multi-gpu", devices=4, num_nodes=2)

* SLURM (``srun`` starts one task per GPU; Lightning reads the SLURM variables)::

      #SBATCH --nodes=2
      #SBATCH --ntasks-per-node=4
      #SBATCH --gpus-per-node=4
      srun python train.py     # or: srun pixelseg train --config train.yaml \\
                               #   --set options.execution_environment=multi-gpu \\
                               #   --set options.devices=4 --set options.num_nodes=2

``mini_batch_size`` is the global mini-batch (as in MATLAB): each of the P processes takes
``mini_batch_size / P`` samples per iteration (it must divide evenly), and gradients are
averaged, so one iteration with P processes equals one iteration of one process with the
same global batch (tested with 2 CPU processes). Batch norm becomes SyncBatchNorm on GPUs
(``sync_batch_norm``). Each process validates its share of the validation set and the
confusion matrices and losses are summed over processes, so every process sees the same
validation metrics and takes the same early-stopping and best-network decisions; rank 0
writes the log, the plot and the checkpoints. The per-iteration training rows of the history
are those of rank 0's share of the mini-batch.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn

from pixelseg.checkpoint import TrainedNetwork, check_finite_network, network_metadata, read_checkpoint
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.training.callbacks.checkpoints import checkpoint_callbacks
from pixelseg.training.callbacks.fault import FaultCheckpoint
from pixelseg.training.callbacks.history import HistoryRecorder
from pixelseg.training.callbacks.precise_bn import PreciseBatchNorm
from pixelseg.training.callbacks.progress import ProgressBar
from pixelseg.training.callbacks.time_fit import FitToMaxTime
from pixelseg.training.callbacks.selection import ValidationSelection
from pixelseg.training.data import EpochSampler, make_loader
from pixelseg.training.distillation import load_teacher
from pixelseg.training.faults import (
    TrainingDivergedError,
    TrainingOutOfMemoryError,
    check_class_count,
    check_dataset,
    diverged_message,
    is_out_of_memory,
    out_of_memory_message,
)
from pixelseg.training.loggers import build_loggers
from pixelseg.training.losses import build_loss
from pixelseg.training.module import SegmentationTask
from pixelseg.training.options import TrainingOptions
from pixelseg.training.runtime import quiet_lightning, restore_sigint, sigint_handler
from pixelseg.training.schedules import schedule_from_options
from pixelseg.utils.log import ensure_console_handler

__all__ = ["train_network"]


class _Data(pl.LightningDataModule):
    """Builds the loaders inside each process, where the rank and world size are known."""

    def __init__(self, train_ds, validation_ds, options: TrainingOptions, per_process_batch: int) -> None:
        super().__init__()
        self.train_ds, self.validation_ds, self.options = train_ds, validation_ds, options
        self.per_process_batch = per_process_batch
        self.pin_memory = False

    def train_dataloader(self):
        trainer = self.trainer
        sampler = EpochSampler(len(self.train_ds), self.options.shuffle, self.options.seed or 0,
                               rank=trainer.global_rank, world_size=trainer.world_size)
        loader = make_loader(self.train_ds, self.per_process_batch, sampler, self.options.num_workers,
                             self.pin_memory, self.options.seed, resumable=True)
        epoch_loop = trainer.fit_loop.epoch_loop
        loader.progress = lambda: (trainer.current_epoch, epoch_loop.batch_progress.current.processed)
        return loader

    def val_dataloader(self):
        if self.validation_ds is None:
            return []
        trainer = self.trainer
        sampler = None
        if trainer.world_size > 1:  # each process validates its share; the counts are summed
            sampler = EpochSampler(len(self.validation_ds), "never", rank=trainer.global_rank,
                                   world_size=trainer.world_size, pad=False)
        return make_loader(self.validation_ds, self.per_process_batch, sampler, self.options.num_workers,
                           self.pin_memory, self.options.seed)


def train_network(train_ds, net: nn.Module, options: TrainingOptions | dict | None = None,
                  validation_data=None, class_weights=None, class_set=None) -> TrainedNetwork:
    """Train a segmentation network (MATLAB ``trainnet`` / ``trainNetwork``).

    Args:
        train_ds: torch Dataset of ``(image 3 x H x W float32 in [0, 1], label H x W int64)``
            with void = 255, e.g. ``combine(imds, pxds).as_tensors()``; all images of one
            mini-batch must share one size.
        net: a ``pixelseg.models`` network (``.num_classes``, ``.config``); trained in place.
        options: :class:`TrainingOptions` (or a dict of its fields); default TrainingOptions().
        validation_data: Dataset like ``train_ds``, or None.
        class_weights: K loss weights (e.g. ``pixelseg.data.class_weights(...)``), or None.
        class_set: the ``ClassSet`` of the labels; default ``train_ds.class_set`` when present.

    Returns:
        :class:`TrainedNetwork` with ``.network`` (eval mode, CPU, the weights chosen by
        ``options.output_network``), ``.class_set``, ``.history``, ``.options``.

    Files (when ``options.output_dir`` is set): ``training_log.csv`` (the history),
    ``training_progress.png`` (``plots="training-progress"``), ``checkpoints/`` with the
    ``keep_checkpoints`` most recent ``epochNNN-iterationNNNNNN.ckpt`` (every
    ``checkpoint_frequency`` epochs or iterations), ``last.ckpt`` and, with a best
    ``output_network``, ``best.ckpt``; ``interrupted.ckpt`` after Ctrl-C, ``last-good.ckpt``
    after a NaN loss. Resume any of them with ``TrainingOptions(resume_from=path)``. The
    ``loggers`` write under ``output_dir`` too; messages go to the ``pixelseg`` logger.

    Raises:
        ConfigurationError: class count of the data (class set, class weights) differs from the
            network's (both numbers named), bad options for this data, resume_from of another
            network, a ``distillation_teacher`` of other classes.
        FileNotFoundError: no ``distillation_teacher`` of that path or shipped name.
        DataError: empty data, a validation set without labels, numpy samples, label values
            out of range.
        TrainingDivergedError: the loss became NaN or infinite (iteration, checkpoint and tips
            in the message).
        TrainingOutOfMemoryError: out of memory (suggests a smaller ``mini_batch_size``).
        KeyboardInterrupt: Ctrl-C; ``interrupted.ckpt`` was written first when possible.

    See the module docstring for multi-GPU and multi-machine (torchrun, SLURM) runs.
    """
    options = _as_options(options)
    _check_network(net)
    if class_set is None:
        class_set = getattr(train_ds, "class_set", None)
    check_class_count(int(net.num_classes), class_set, class_weights)
    in_channels = getattr(net, "in_channels", None)
    input_size = check_dataset(train_ds, "training", in_channels, int(net.num_classes))
    if validation_data is not None:
        check_dataset(validation_data, "validation", in_channels, int(net.num_classes))
        validation_classes = getattr(validation_data, "class_set", None)
        if class_set is not None and validation_classes is not None and validation_classes != class_set:
            raise ConfigurationError(
                f"the validation data has a different class set ({validation_classes.num_classes} classes: "
                f"{validation_classes.names}) from the training data ({class_set.num_classes}: {class_set.names})"
            )
    elif options.output_network != "last-iteration" or options.validation_patience is not None:
        name = "output_network" if options.output_network != "last-iteration" else "validation_patience"
        raise ConfigurationError(f"{name}={getattr(options, name)!r} needs validation_data")
    resume = _check_resume(options, net)

    if options.seed is not None:
        pl.seed_everything(options.seed, workers=True, verbose=False)
    loss = build_loss(options.loss, class_weights, int(net.num_classes), options.focal_gamma, options.ohem_threshold,
                      options.ohem_min_kept)
    teacher = load_teacher(options, net, class_set)
    metadata = network_metadata(net, class_set, options, input_size)
    if options.verbose:
        ensure_console_handler()
    history = HistoryRecorder(options.output_dir, plot=options.plots == "training-progress",
                              verbose=options.verbose, verbose_frequency=options.verbose_frequency)
    selection = ValidationSelection(options.output_network, options.objective_metric, options.validation_patience,
                                    verbose=options.verbose)
    fault = FaultCheckpoint(options.checkpoint_dir)
    net.train()  # a network from load_network (or an earlier run) is in eval mode

    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    previous_sigint = sigint_handler()
    # Selection before history: the early-stopping line comes before the validation summary.
    callbacks = [selection, history, fault] + ([ProgressBar(history.latest)] if options.verbose else []) \
        + list(options.callbacks)
    with quiet_lightning():
        trainer = _make_trainer(options, callbacks, has_validation=validation_data is not None)
        world = trainer.world_size
        if options.mini_batch_size % world:
            raise ConfigurationError(
                f"mini_batch_size={options.mini_batch_size} is the global mini-batch and must divide evenly "
                f"among the {world} training processes"
            )
        per_process = options.mini_batch_size // world
        iterations_per_epoch = math.ceil(math.ceil(len(train_ds) / world) / per_process)
        task = SegmentationTask(net, options, loss, schedule_from_options(options, iterations_per_epoch), metadata,
                                teacher=teacher)
        data = _Data(train_ds, validation_data, options, per_process)
        precise = precise_batch_norm_batches(options, iterations_per_epoch * options.max_epochs)
        if precise:
            trainer.callbacks.insert(0, PreciseBatchNorm(train_ds, precise, per_process, seed=options.seed or 0))
        if options.fit_to_max_time:
            trainer.callbacks.insert(0, FitToMaxTime(recalibration_batches=precise))
        data.pin_memory = trainer.strategy.root_device.type == "cuda"
        try:
            trainer.fit(task, datamodule=data, ckpt_path=str(resume) if resume else None)
        except SystemExit:
            if fault.interrupted:
                where = f"; resume with TrainingOptions(resume_from={str(fault.path)!r})" \
                    if fault.path else " (no checkpoint: set output_dir to keep one)"
                raise KeyboardInterrupt(f"training interrupted at iteration {trainer.global_step}{where}") from None
            raise
        except TrainingDivergedError as exc:
            raise TrainingDivergedError(
                diverged_message(exc.value, exc.iteration, exc.epoch, options, fault.path,
                                 restored=task.guard.restored, rolled_back=task.guard.rolled_back),
                value=exc.value, iteration=exc.iteration, epoch=exc.epoch, checkpoint=fault.path,
            ) from None
        except (RuntimeError, MemoryError) as exc:
            if is_out_of_memory(exc):
                device = trainer.strategy.root_device.type
                raise TrainingOutOfMemoryError(out_of_memory_message(options, device)) from exc
            raise
        finally:
            torch.use_deterministic_algorithms(previous_deterministic)
            restore_sigint(previous_sigint)  # Lightning ignores SIGINT after a Ctrl-C

    revert_sync_batch_norm(net)  # multi-GPU runs convert batch norm; give back plain BatchNorm2d
    if selection.best_state is not None and options.output_network != "last-iteration":
        net.load_state_dict(selection.best_state)
    net.to(memory_format=torch.contiguous_format)
    net.cpu().eval()
    checkpoint = None
    callback = trainer.checkpoint_callback
    if isinstance(callback, ModelCheckpoint) and callback.last_model_path:
        checkpoint = Path(callback.last_model_path)
    return TrainedNetwork(network=net, class_set=class_set, history=history.history, options=options,
                          input_size=input_size, checkpoint=checkpoint)


# ---- helpers ------------------------------------------------------------------------------------
def revert_sync_batch_norm(module: nn.Module) -> nn.Module:
    """Replace every ``SyncBatchNorm`` inside ``module`` by an equivalent ``BatchNorm2d``, in place."""
    for name, child in module.named_children():
        if isinstance(child, nn.SyncBatchNorm):
            plain = nn.BatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                   child.track_running_stats)
            plain.load_state_dict(child.state_dict())
            plain.to(next(child.buffers(), torch.empty(0)).device).train(child.training)
            setattr(module, name, plain)
        else:
            revert_sync_batch_norm(child)
    return module


def _as_options(options) -> TrainingOptions:
    if options is None:
        return TrainingOptions()
    if isinstance(options, TrainingOptions):
        return options
    if isinstance(options, dict):
        return TrainingOptions(**options)
    raise ConfigurationError(f"options must be a TrainingOptions or a dict, got {type(options).__name__}")


def precise_batch_norm_batches(options: TrainingOptions, total_iterations: int) -> int:
    """Mini-batches for batch-norm recalibration: ``options.precise_batch_norm``, with
    ``"auto"`` = 16 for runs of at most 10,000 iterations and 0 (off) for longer ones."""
    if options.precise_batch_norm == "auto":
        return 16 if total_iterations <= 10_000 else 0
    return int(options.precise_batch_norm)


def _check_network(net) -> None:
    if not isinstance(net, nn.Module):
        raise ConfigurationError(f"net must be a torch nn.Module (a pixelseg.models network), got {type(net).__name__}")
    if not isinstance(getattr(net, "num_classes", None), int):
        raise ConfigurationError(
            f"net ({type(net).__name__}) has no integer .num_classes; build it with pixelseg.models.create_network"
        )


def _check_resume(options: TrainingOptions, net: nn.Module) -> Path | None:
    if options.resume_from is None:
        return None
    path = Path(options.resume_from)
    if not path.is_file():
        raise FileNotFoundError(f"resume_from checkpoint {path} does not exist")
    checkpoint = read_checkpoint(path, "resume_from", map_location="cpu")
    meta = checkpoint.get("pixelseg") if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict) or "optimizer_states" not in checkpoint:
        raise DataError(
            f"resume_from {path} is not a training checkpoint (use a file from the run's checkpoints/ folder; "
            "TrainedNetwork.save files hold no optimizer state)"
        )
    saved = meta.get("network_config")
    if saved != dict(getattr(net, "config", {})):
        raise ConfigurationError(f"resume_from {path} holds the network {saved}, not the given network {net.config}")
    weights = {k.removeprefix("network."): v for k, v in (checkpoint.get("state_dict") or {}).items()}
    check_finite_network(weights, f"resume_from {path}")
    return path


def _accelerator(options: TrainingOptions) -> tuple[str, Any, str]:
    """(accelerator, devices, strategy) for the Trainer."""
    env = options.execution_environment
    if env == "multi-gpu":
        if not torch.cuda.is_available():
            raise ConfigurationError('execution_environment="multi-gpu" needs CUDA GPUs; none is available')
        return "gpu", (-1 if options.devices == "auto" else options.devices), "ddp"
    if env == "gpu" and not torch.cuda.is_available():
        raise ConfigurationError('execution_environment="gpu" but no CUDA GPU is available; use "auto" or "cpu"')
    accelerator = {"auto": "auto", "cpu": "cpu", "gpu": "gpu"}[env]
    devices = 1 if options.devices == "auto" else options.devices
    multi = (devices > 1) or options.num_nodes > 1
    return accelerator, devices, ("ddp" if multi else "auto")


def _make_trainer(options: TrainingOptions, callbacks: list[pl.Callback], has_validation: bool) -> pl.Trainer:
    accelerator, devices, strategy = _accelerator(options)
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())
    if on_cpu and options.precision == "16-mixed":
        raise ConfigurationError('precision="16-mixed" needs a GPU; use "bf16-mixed" or "32" on the CPU')
    folder = options.checkpoint_dir
    if folder is not None:
        callbacks = list(callbacks) + checkpoint_callbacks(
            folder, options.keep_checkpoints, options.checkpoint_frequency, options.checkpoint_frequency_unit,
            options.output_network, options.objective_metric)
    validation = {"val_check_interval": options.validation_frequency, "check_val_every_n_epoch": None} \
        if has_validation else {"limit_val_batches": 0}
    return pl.Trainer(
        accelerator=accelerator,
        devices=devices,
        num_nodes=options.num_nodes,
        strategy=strategy,
        sync_batchnorm=options.sync_batch_norm and accelerator == "gpu" and strategy == "ddp",
        precision=options.precision,
        max_epochs=options.max_epochs,
        max_time=datetime.timedelta(seconds=options.max_time) if options.max_time else None,
        deterministic=options.deterministic,
        callbacks=callbacks,
        logger=build_loggers(options.loggers, options.output_dir) or False,
        enable_checkpointing=folder is not None,
        enable_progress_bar=options.verbose,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,
        default_root_dir=str(options.output_dir) if options.output_dir is not None else None,
        **validation,
    )
