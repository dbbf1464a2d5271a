"""``pixelseg train --data DIR --time-budget 30m``: from a folder to a network within a time budget.

Reads the folder with the layout the data layer detects (classes from ``--classes``, the
layout, or one class per raw label value), profiles it (:func:`profile_data`), chooses a recipe
(:mod:`pixelseg.workflow.auto_recipe`), measures the training step and the validation pass on
this machine, sets the epochs to fit the budget, then runs the ordinary train job and the
closing evaluation with overlays. The run folder holds everything the train job writes, with
``config.yaml`` headed by the choices and their reasons (``pixelseg train --config
RUN/config.yaml`` repeats the run), ``choices.json``, the metrics files and ``overlays/``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from pixelseg.data import ClassSet, class_widths, count_each_label, partition
from pixelseg.data.class_inference import RAW_VALUES, infer_class_set
from pixelseg.data.io import image_size
from pixelseg.data.spec import DataSpec
from pixelseg.data.spec import open_data as open_spec
from pixelseg.errors import DataError
from pixelseg.utils.atomic import atomic_write
from pixelseg.utils.duration import parse_duration
from pixelseg.workflow._common import run_folder
from pixelseg.workflow.auto_recipe import Choice, DataProfile, Recipe, choose_recipe, plan_budget
from pixelseg.workflow.pictures import evaluate_and_draw
from pixelseg.workflow.train import TrainData, TrainRun, job_network, open_data, run_train_job, tensor_views
from pixelseg.workflow.train_config import TrainJob, load_job

_log = logging.getLogger(__name__)

__all__ = ["run_auto_train", "run_recipe", "run_config_within_budget", "open_folder", "profile_data", "measure_step", "measure_validation_pass"]


def open_folder(root: Path, classes: str | Path | None, echo: Callable[[str], None]) -> tuple[TrainData, DataSpec,
                                                                                                     list[Choice]]:
    """The folder's train and validation pairs (80/20 partition, seed 0, when it has no
    validation split), the ``data:`` block that reads it, and how the classes were found."""
    from pixelseg.data.formats.detect import detect_layout

    detected = detect_layout(root)
    spec = DataSpec(root=root, layout=detected.name, layout_options=dict(detected.options))
    choices = []
    class_set = ClassSet.load(classes) if classes is not None else detected.class_set
    if class_set is None:
        raw = open_spec(spec, RAW_VALUES)
        class_set = infer_class_set(ds.labels for ds in raw.splits.values())
        choices.append(Choice("classes", ", ".join(class_set.names), "no class file: one class per label value "
                              "found; pass --classes to name them and to declare void"))
    opened = open_spec(spec, class_set)
    train = opened.splits.get("train", opened.splits.get("all"))
    if train is None:
        raise DataError(f"{root}: the {opened.layout} layout has no train split (found {sorted(opened.splits)})")
    validation = opened.validation
    if validation is None:
        train, validation = partition(train, (0.8, 0.2), seed=0)
        choices.append(Choice("data.split", [0.8, 0.2], "no validation split in the folder: 20 % of the pairs, "
                              "stratified by class presence, seed 0"))
    echo(f"data: {opened.layout} layout, train {len(train)} pairs, validation {len(validation)} pairs, "
         f"{class_set.num_classes} classes")
    return TrainData(train, validation, class_set), spec, choices


def profile_data(data: TrainData, sample: int = 64) -> DataProfile:
    """Sizes (image headers of up to ``sample`` files), grey or colour (up to 6 images),
    class shares (up to ``sample`` training labels, evenly spread) and the classes' typical
    widths (12 labels: :func:`~pixelseg.data.object_size.class_widths`)."""
    train = data.train
    picks = np.unique(np.linspace(0, len(train) - 1, min(sample, len(train))).round().astype(int))
    sizes = np.array([image_size(train.images.files[int(i)]) for i in picks])
    image_hw = (int(np.median(sizes[:, 0])), int(np.median(sizes[:, 1])))
    grey = True
    for i in picks[np.linspace(0, len(picks) - 1, min(6, len(picks))).round().astype(int)]:
        image = np.asarray(train.images.read(int(i)))
        if image.ndim == 3 and image.shape[2] >= 3 and not (
                np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2])):
            grey = False
            break
    table = count_each_label(train.labels.subset(picks))
    counts = table["pixel_count"].to_numpy(dtype=float)
    fraction = counts / counts.sum() if counts.sum() else counts
    return DataProfile(len(train), len(data.validation), image_hw, grey, list(data.class_set.names), fraction,
                       class_widths(train, max_files=12))


def measure_step(net, dataset, batch_size: int, class_weights=None, steps: int = 8, warmup: int = 3,
                 max_seconds: float = 20.0, teacher=None) -> float:
    """Seconds per training step (loading and augmenting a mini-batch, forward, backward,
    AdamW step; channels-last as training runs): the lower quartile of up to ``steps`` steps
    after ``warmup`` warm-up steps; measuring stops early once ``max_seconds`` were spent on
    measured steps (at least one is measured).

    The first steps of a process are slow and noisy (allocations, kernel selection; on camvid
    here 3.0, 2.0, 1.6, 1.8, 1.5, 1.7, 1.9, 1.6, 1.9, 1.5 s against 1.5 s once training runs),
    and noise only ever adds time: the mean of the first two after one warm-up planned a
    60-minute camvid run a third short, the median of five after two a quarter short (it
    ended after 2784 of 3600 s). A step slower than measured is caught by the plan's
    ``max_time``. ``net``'s weights are changed: pass a spare network. A ``teacher``
    (:class:`pixelseg.training.distillation.DistillationTeacher`) is run and its term added
    to the loss, as training with ``distillation_teacher`` does."""
    import torch

    generator = torch.Generator().manual_seed(0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
    weight = torch.as_tensor(class_weights, dtype=torch.float32) if class_weights is not None else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight, ignore_index=255)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    net.train().to(memory_format=torch.channels_last)
    if teacher is not None:
        teacher.to("cpu", torch.channels_last)
    times = []
    with torch.random.fork_rng(devices=[]):
        iterator = iter(loader)
        for i in range(warmup + steps):
            start = time.perf_counter()
            try:
                images, labels = next(iterator)
            except StopIteration:
                iterator = iter(loader)
                images, labels = next(iterator)
            images = images.contiguous(memory_format=torch.channels_last)
            logits = net(images)
            loss = loss_fn(logits, labels.long())
            if teacher is not None:
                loss = loss + teacher.term(logits, images, labels.long())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if i >= warmup:
                times.append(time.perf_counter() - start)
                if sum(times) >= max_seconds:
                    break
    return float(np.percentile(times, 25))


def measure_validation_pass(net, dataset, samples: int = 2) -> float:
    """Seconds for one pass over ``dataset`` in eval mode: the time of up to ``samples``
    single images (loading included, after one warm-up image) scaled to its length."""
    from pixelseg.training.timing import time_forward_passes

    inputs = (dataset[i][0][None] for i in (0, *range(len(dataset))))  # image 0 warms up, then is timed too
    return time_forward_passes(net, inputs, min(samples, len(dataset)), len(dataset), warmup=1)


def _fit_budget(recipe: Recipe, spare, data: TrainData, job: TrainJob, budget: float, started: float) -> None:
    """Measure ``job``'s training step and validation pass with ``spare`` (a network of the
    job's architecture, changed by the measurement) and plan ``recipe``'s epochs to end within
    ``budget`` seconds of ``started`` (:func:`plan_budget`)."""
    batch = int(recipe.options["mini_batch_size"])
    train_view, validation_view = tensor_views(data, job.data, seed=0)
    from pixelseg.training.distillation import load_teacher

    teacher = load_teacher(job.training_options(Path(".")), spare, data.class_set)  # its forward pass is in each step
    step_s = measure_step(spare, train_view, batch, teacher=teacher)  # class weights: same time
    validation_s = measure_validation_pass(spare, validation_view)
    plan_budget(recipe, budget, time.perf_counter() - started, step_s, validation_s, math.ceil(len(data.train) / batch))


def _job(spec: DataSpec, recipe: Recipe, classes: Path | dict, init_from: Path | None = None) -> TrainJob:
    data = spec.model_copy(update={k: (tuple(v) if isinstance(v, list) else v) for k, v in recipe.data.items()})
    return TrainJob(data=data, classes=classes, class_weights=recipe.class_weights, network=dict(recipe.network),
                    options=dict(recipe.options), init_from=init_from)


def _write_choices(out: Path, choices: list[Choice], header: str) -> None:
    lines = [f"# {header}", "# Choices, with their reasons:"] + [f"#   {c.line()}" for c in choices]
    config = out / "config.yaml"
    text = "\n".join(lines) + "\n" + config.read_text(encoding="utf-8")
    with atomic_write(config, overwrite=True) as tmp:
        tmp.write_text(text, encoding="utf-8")
    records = [{"key": c.key, "value": c.value, "reason": c.reason} for c in choices]
    with atomic_write(out / "choices.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps(records, indent=2, default=str), encoding="utf-8")


def run_auto_train(data_dir: str | Path, classes: str | Path | None = None, time_budget: str | float = "30m",
                   domain: str | None = None, output: str | Path | None = None, overwrite: bool = False,
                   echo: Callable[[str], None] | None = None) -> TrainRun:
    """Train the best network the recipe can reach on ``data_dir`` within ``time_budget``.

    Args:
        data_dir: a dataset folder in any layout ``pixelseg info`` detects.
        classes: a class file; default the layout's classes, else one class per raw value.
        time_budget: wall time for the whole job, reading to final report: ``"30m"``,
            ``"1h"``, ``"600"`` (seconds).
        domain: ``"scene"``, ``"aerial"``, ``"microscopy"``, ``"medical"``, ``"inspection"``
            or None/"auto" (greyscale: microscopy, colour: scene); sets the augmentation.
        output: the run folder (default ``runs/auto-<time>``); new or empty unless ``overwrite``.

    Returns:
        The :class:`~pixelseg.workflow.train.TrainRun`; ``run.metrics`` is the final
        evaluation (``metrics.json``: ``dataset_metrics``, ``class_metrics``, ...).

    Raises:
        ConfigurationError: a bad budget or domain; a budget too small to train (says the
            measured step and validation times and what budget would do).
        DataError: the folder's layout is unknown, labels unreadable, too many raw values to
            take as classes.
    """
    started = time.perf_counter()
    echo = echo or _log.info
    budget = parse_duration(time_budget, "--time-budget")
    root = Path(data_dir).resolve()  # config.yaml must read the same folder from anywhere
    data, spec, found = open_folder(root, classes, echo)
    classes_field = Path(classes).resolve() if classes is not None else data.class_set.to_dict()
    return run_recipe(data, spec, classes_field, budget, output, overwrite, echo, started, choices=found,
                      domain=domain, header=f"pixelseg train --data {root} --time-budget {time_budget}")


def run_recipe(data: TrainData, spec: DataSpec, classes: Path | dict, budget: float, output: str | Path | None,
               overwrite: bool, echo: Callable[[str], None], started: float, choices: list[Choice] = (),
               domain: str | None = None, header: str = "", init_from: Path | None = None) -> TrainRun:
    """Choose, measure, plan and run on opened ``data`` (see :func:`run_auto_train`); the
    clock started at ``started`` (``time.perf_counter()``). ``init_from``: fine-tune that
    network (its architecture and weights, a lower learning rate) instead of a new one."""
    output = run_folder(output, "auto")
    recipe = choose_recipe(profile_data(data), domain)
    recipe.choices[:0] = list(choices)
    spare, network_args = job_network(_job(spec, recipe, classes, init_from), data.class_set)
    if init_from is not None:  # its architecture replaces the recipe's network
        recipe.choices = [c for c in recipe.choices if not c.key.startswith("network.")]
        recipe.network = network_args
        recipe.choices.append(Choice("network.name", network_args["name"], f"the network of {init_from}, fine-tuned"))
        recipe.set("options.initial_learn_rate", 5e-4, f"fine-tuning {init_from.name}: a quarter of the rate "
                   "used from ImageNet weights, so what it learnt is kept")
    _fit_budget(recipe, spare, data, _job(spec, recipe, classes, init_from), budget, started)
    del spare
    job = _job(spec, recipe, classes, init_from)
    echo("choices:")
    for choice in recipe.choices:
        echo(f"  {choice.line()}")

    run = run_train_job(job, output, overwrite=overwrite, echo=echo, data=data, score=False)
    _write_choices(run.output, recipe.choices, f"{header}: the automatic recipe's run ({budget:.0f} s budget)")
    size = tuple(job.data.image_size) if job.data.image_size is not None else None
    metrics = evaluate_and_draw(run, data.validation, data.class_set, size, echo)
    run.metrics = metrics.to_dict()
    echo(f"done in {time.perf_counter() - started:.0f} s of a {budget:.0f} s budget; outputs in {run.output.resolve()}")
    return run


def run_config_within_budget(config: str | Path, time_budget: str | float, overrides: Sequence[str] = (),
                             output: str | Path | None = None, overwrite: bool = False,
                             echo: Callable[[str], None] | None = None) -> TrainRun:
    """``pixelseg train --config FILE --time-budget 30m``: the config's own recipe, its epochs fit to a budget.

    Every setting of ``config`` (with ``overrides``) is kept except the length of the run:
    the training step and the validation pass are measured on this machine as for
    :func:`run_auto_train`, then :func:`plan_budget` sets ``max_epochs``,
    ``validation_frequency``, ``warmup_epochs`` (one epoch from five epochs on) and a hard
    ``max_time`` so that training, its validations and the closing score on the validation
    data (``validation_metrics.json``) end within the budget. The config's ``max_epochs`` is
    replaced (by fewer epochs or more); the learning-rate schedule spans the planned run. ``config.yaml`` of the run folder is headed by the planned
    values and their reasons and repeats the run.

    Raises:
        ConfigurationError: a bad budget or config; a budget too small to train.
        FileNotFoundError: no config file. DataError: see :func:`run_train_job`.
    """
    started = time.perf_counter()
    echo = echo or _log.info
    budget = parse_duration(time_budget, "--time-budget")
    job = load_job(config, overrides)
    data = open_data(job)
    options = dict(job.options)
    options["mini_batch_size"] = job.training_options(".").mini_batch_size
    recipe = Recipe(class_weights=job.class_weights, network=dict(job.network), options=options)
    spare, _ = job_network(job, data.class_set)
    _fit_budget(recipe, spare, data, job, budget, started)
    del spare
    echo("planned for the budget:")
    for choice in recipe.choices:
        echo(f"  {choice.line()}")
    run = run_train_job(job.model_copy(update={"options": recipe.options}), run_folder(output, "train"),
                        overwrite=overwrite, echo=echo, data=data)
    _write_choices(run.output, recipe.choices, f"pixelseg train --config {Path(config).resolve()} --time-budget "
                   f"{time_budget}: the config's recipe fit to {budget:.0f} s")
    echo(f"done in {time.perf_counter() - started:.0f} s of a {budget:.0f} s budget; outputs in {run.output.resolve()}")
    return run
