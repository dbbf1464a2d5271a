"""TrainingOptions: MATLAB defaults, validation with clear errors, YAML round trip."""

from __future__ import annotations

import pytest

from pixelseg.errors import ConfigurationError
from pixelseg.training import TrainingOptions


def test_defaults_follow_matlab_training_options():
    o = TrainingOptions()
    assert (o.solver, o.initial_learn_rate, o.momentum, o.l2_regularization) == ("sgdm", 0.01, 0.9, 1e-4)
    assert (o.max_epochs, o.mini_batch_size, o.shuffle, o.validation_frequency) == (30, 128, "once", 50)
    assert o.validation_patience is None and o.gradient_threshold is None  # MATLAB's Inf
    assert (o.output_network, o.execution_environment, o.plots) == ("last-iteration", "auto", "none")
    assert o.squared_gradient_decay_factor == 0.999


@pytest.mark.parametrize("solver, rate", [("adam", 1e-3), ("adamw", 1e-3), ("rmsprop", 1e-3), ("sgdm", 1e-2)])
def test_learn_rate_default_depends_on_solver(solver, rate):
    assert TrainingOptions(solver=solver).initial_learn_rate == rate
    assert TrainingOptions(solver=solver, initial_learn_rate=0.5).initial_learn_rate == 0.5


def test_inf_means_none_for_patience_and_threshold():
    o = TrainingOptions(validation_patience="inf", gradient_threshold=float("inf"))
    assert o.validation_patience is None and o.gradient_threshold is None


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"solver": "sgd"}, ["solver", "'sgd'", "sgdm"]),
        ({"max_epochs": 0}, ["max_epochs", "0"]),
        ({"mini_batch_size": -2}, ["mini_batch_size", "-2"]),
        ({"initial_learn_rate": 0}, ["initial_learn_rate"]),
        ({"shuffle": "always"}, ["shuffle", "every-epoch"]),
        ({"learn_rate_schedule": "step"}, ["learn_rate_schedule", "piecewise"]),
        ({"loss": "hinge"}, ["loss", "hinge", "cross-entropy"]),
        ({"loss": {"dice": -1}}, ["loss"]),
        ({"precision": "8"}, ["precision", "16-mixed"]),
        ({"minibatchsize": 4}, ["unknown option", "minibatchsize"]),
        ({"plots": "training-progress"}, ["output_dir"]),
        ({"devices": 0}, ["devices", "0"]),
    ],
)
def test_bad_values_name_field_and_value(kwargs, words):
    with pytest.raises(ConfigurationError) as info:
        TrainingOptions(**kwargs)
    for word in words:
        assert word in str(info.value)
    assert isinstance(info.value, ValueError)


def test_assignment_is_validated():
    o = TrainingOptions()
    o.max_epochs = 3
    assert o.max_epochs == 3
    with pytest.raises(ConfigurationError, match="max_epochs"):
        o.max_epochs = -1


def test_checkpoint_dir_defaults_to_output_dir(tmp_path):
    assert TrainingOptions().checkpoint_dir is None
    assert TrainingOptions(output_dir=tmp_path).checkpoint_dir == tmp_path / "checkpoints"
    assert TrainingOptions(output_dir=tmp_path, checkpoint_path=tmp_path / "c").checkpoint_dir == tmp_path / "c"


def test_yaml_round_trip_and_section(tmp_path):
    o = TrainingOptions(solver="adam", max_epochs=3, loss={"cross-entropy": 1.0, "dice": 0.5}, output_dir=tmp_path)
    path = o.to_yaml(tmp_path / "options.yaml")
    assert TrainingOptions.from_yaml(path) == o
    with pytest.raises(FileExistsError):
        o.to_yaml(path)
    (tmp_path / "train.yaml").write_text("data: {}\noptions:\n  max_epochs: 2\n  solver: adamw\n")
    assert TrainingOptions.from_yaml(tmp_path / "train.yaml", key="options").solver == "adamw"


def test_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_epochs: zero\n")
    with pytest.raises(ConfigurationError, match=r"bad\.yaml.*max_epochs"):
        TrainingOptions.from_yaml(bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigurationError, match="mapping"):
        TrainingOptions.from_yaml(bad)
    with pytest.raises(FileNotFoundError):
        TrainingOptions.from_yaml(tmp_path / "missing.yaml")
