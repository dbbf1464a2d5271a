"""What a run checkpoint holds, and that resuming carries on the history, patience and best weights.

Also for a checkpoint of the layout written before issue 14 (tests/fixtures/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from pixelseg.checkpoint import HISTORY_COLUMNS, load_network
from pixelseg.models import unet
from pixelseg.training import train_network
from tests.history import assert_same_history

from ..fixtures.old_checkpoint_data import options, synthetic

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OLD = FIXTURES / "old_run_checkpoint.ckpt"


def other_weights(net):
    torch.manual_seed(1)
    for p in net.parameters():  # the checkpoint must supply everything
        p.data.normal_()
    return net


def assert_same_run(resumed, history: pd.DataFrame, state: dict) -> None:
    assert_same_history(resumed.history, history, check_dtype=False, check_exact=False, rtol=1e-5, atol=1e-6)
    for name, value in resumed.network.state_dict().items():
        torch.testing.assert_close(value, state[name], rtol=1e-5, atol=1e-6)


def test_old_format_checkpoint_resumes_with_its_history_patience_and_best_weights(tmp_path):
    expected = torch.load(FIXTURES / "old_run_expected.pt", weights_only=True)
    net = other_weights(load_network(OLD).network)  # in eval mode, as load_network gives it
    resumed = train_network(synthetic(16, seed=0), net, options(output_dir=tmp_path, resume_from=OLD),
                            validation_data=synthetic(8, seed=1))
    # Same epoch and step, the old history carried on, the early stop at iteration 8 (one bad
    # validation was already counted in the checkpoint) and the best weights (iteration 2).
    assert_same_run(resumed, pd.DataFrame(expected["final_history"]), expected["final_state"])
    logged = pd.read_csv(tmp_path / "training_log.csv")
    assert logged.iteration.tolist() == expected["final_history"]["iteration"]
    # what it writes is the new layout
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    pd.testing.assert_frame_equal(pd.DataFrame(last["pixelseg"]["history"]), resumed.history, check_dtype=False)
    assert "TrainingRecorder" not in last["callbacks"]


def test_run_checkpoints_hold_the_history_and_resume_patience_and_best_weights(tmp_path):
    torch.manual_seed(0)
    straight = train_network(synthetic(16, seed=0), unet(num_classes=3, encoder_depth=1, num_first_encoder_filters=4),
                             options(output_dir=tmp_path / "a"), validation_data=synthetic(8, seed=1))
    history = straight.history
    assert history.iteration.max() == 8  # patience 3 ran out (validations at 4, 6, 8 worse than at 2)
    folder = tmp_path / "a" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["best.ckpt", "epoch000-iteration000004.ckpt",
                                                        "epoch001-iteration000008.ckpt", "last.ckpt"]
    assert torch.load(folder / "best.ckpt", weights_only=True)["global_step"] == 2  # the best validation
    for path in folder.iterdir():
        checkpoint = torch.load(path, weights_only=True)
        saved = checkpoint["pixelseg"]["history"]
        assert list(saved) == HISTORY_COLUMNS
        step = checkpoint["global_step"]
        pd.testing.assert_frame_equal(pd.DataFrame(saved), history[history.iteration <= step].reset_index(drop=True))
        assert all("rows" not in state for state in checkpoint["callbacks"].values())
    middle = torch.load(folder / "epoch000-iteration000004.ckpt", weights_only=True)["callbacks"]["ValidationSelection"]
    assert middle["bad_validations"] == 1 and middle["best_iteration"] == 2 and middle["validated_at"] == 4

    net = other_weights(unet(num_classes=3, encoder_depth=1, num_first_encoder_filters=4))
    resumed = train_network(synthetic(16, seed=0), net, options(output_dir=tmp_path / "b",
                                                                 resume_from=folder / "epoch000-iteration000004.ckpt"),
                            validation_data=synthetic(8, seed=1))
    assert_same_run(resumed, history, straight.network.state_dict())
