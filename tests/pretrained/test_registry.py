"""Shipped networks: cards, names resolved to files, half-precision storage, the models command."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

import pixelseg.pretrained as pretrained
from pixelseg.checkpoint import TrainedNetwork, load_network
from pixelseg.data import ClassSet
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.pretrained import CARD_KEYS, model_card, model_cards, resolve_network
from pixelseg.workflow.models import run_models

CLASSES = ClassSet(names=["road", "car", "sky"], label_ids=[0, 1, 2])


def tiny_network() -> TrainedNetwork:
    from pixelseg.models import unet

    torch.manual_seed(0)
    net = unet(num_classes=3, encoder_depth=1, num_first_encoder_filters=4)
    # batch-norm statistics that float16 would round: they must come back exactly
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.fill_(1.000123)
    return TrainedNetwork(network=net.eval(), class_set=CLASSES, input_size=(16, 16))


def card(name: str, **changes) -> dict:
    fields = {key: f"the {key}" for key in CARD_KEYS}
    fields.update(name=name, summary="a tiny U-Net", classes=3, validation={"split": "val", "mean_iou": 0.5},
                  latency_ms={"pytorch": 3.0})
    fields.update(changes)
    return fields


@pytest.fixture()
def zoo(tmp_path, monkeypatch):
    """A folder of shipped networks with one tiny network, made the package's folder."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    tiny_network().save(folder / "tiny.pt", precision="int8")
    (folder / "tiny.yaml").write_text(yaml.safe_dump(card("tiny")))
    monkeypatch.setattr(pretrained, "pretrained_folder", lambda: folder)
    return folder


def test_half_precision_storage_halves_the_file_and_keeps_the_outputs(tmp_path):
    trained = tiny_network()
    full, half = trained.save(tmp_path / "full.pt"), trained.save(tmp_path / "half.pt", precision="float16")
    stored = torch.load(half, weights_only=True)["state_dict"]
    conv = next(k for k in stored if k.endswith("weight") and stored[k].ndim == 4)
    assert stored[conv].dtype == torch.float16
    assert all(v.dtype == torch.float32 for k, v in stored.items() if k.endswith(("running_mean", "running_var")))
    full_bytes = sum(t.numel() * t.element_size() for t in torch.load(full, weights_only=True)["state_dict"].values())
    half_bytes = sum(t.numel() * t.element_size() for t in stored.values())
    assert half_bytes < 0.6 * full_bytes

    loaded = load_network(half)
    assert all(p.dtype == torch.float32 for p in loaded.network.parameters())
    bn = next(m for m in loaded.network.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert torch.all(bn.running_var == torch.tensor(1.000123, dtype=torch.float32))  # not rounded to float16
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    reference = trained(x)
    torch.testing.assert_close(loaded(x), reference, atol=2e-2 * float(reference.abs().max()), rtol=0)
    assert (loaded(x).argmax(1) == reference.argmax(1)).float().mean() > 0.99


def test_a_shipped_name_loads_and_a_path_wins_over_it(zoo, tmp_path, monkeypatch):
    assert [c.name for c in model_cards()] == ["tiny"]
    assert resolve_network("tiny") == zoo / "tiny.pt"
    loaded = load_network("tiny")
    assert loaded.class_set.names == ["road", "car", "sky"] and loaded.checkpoint == zoo / "tiny.pt"
    # an existing file of that name in the working folder is read as the file
    monkeypatch.chdir(tmp_path)
    tiny_network().save(tmp_path / "tiny")
    assert resolve_network("tiny") == tmp_path.joinpath("tiny").relative_to(tmp_path)


def test_an_unknown_name_lists_the_shipped_ones(zoo):
    with pytest.raises(FileNotFoundError, match=r"network file tyni does not exist, and it is not the name of a "
                                                r"shipped network \(tiny; `pixelseg models` lists them\)"):
        load_network("tyni")
    with pytest.raises(KeyError, match="no shipped network is called 'tyni'; the shipped networks are tiny"):
        model_card("tyni")


@pytest.mark.parametrize("change, message", [
    (lambda f, d: (d / "bad.yaml").write_text(yaml.safe_dump({k: v for k, v in card("bad").items() if k != "licence"})),
     "model card .*bad.yaml lacks licence"),
    (lambda f, d: (d / "bad.yaml").write_text(yaml.safe_dump(card("other"))), "names the network 'other', not 'bad'"),
    (lambda f, d: (d / "bad.yaml").write_text(yaml.safe_dump(card("bad"))), "bad.yaml has no network file bad.pt"),
    (lambda f, d: (d / "bad.yaml").write_text("name: [unclosed"), "bad.yaml is not valid YAML"),
])
def test_a_broken_card_is_named(zoo, change, message):
    change(None, zoo)
    with pytest.raises(DataError, match=message):
        model_cards()


def test_models_command_prints_the_table_and_one_card(zoo):
    lines: list[str] = []
    run_models(echo=lines.append)
    table = lines[0].splitlines()
    assert table[0].split() == ["name", "summary", "trained_on", "val_mean_iou", "pytorch_ms", "onnx_ms", "size_mb",
                              "licence"]
    assert table[1].split()[:1] == ["tiny"] and "0.5" in table[1] and "a tiny U-Net" in table[1]
    lines.clear()
    run_models("tiny", echo=lines.append)
    assert yaml.safe_load(lines[0])["summary"] == "a tiny U-Net"
    assert lines[1].startswith(f"file: {zoo / 'tiny.pt'} (")
    with pytest.raises(ConfigurationError, match="no shipped network is called 'nope'"):
        run_models("nope", echo=lines.append)


def test_no_shipped_networks(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "pretrained_folder", lambda: tmp_path)
    lines: list[str] = []
    run_models(echo=lines.append)
    assert lines[0] == "no networks are shipped with this installation"
    with pytest.raises(FileNotFoundError, match=r"checkpoint camvid does not exist, .*\(none shipped;"):
        resolve_network("camvid", role="checkpoint")


def test_every_command_that_takes_a_network_takes_a_shipped_name(zoo, tmp_path, capsys):
    from PIL import Image

    from pixelseg.labeling.prelabel import Prelabeler
    from pixelseg.workflow._common import open_checkpoint

    from tests.inference.cli import run_main

    assert open_checkpoint("tiny").checkpoint == zoo / "tiny.pt"
    assert Prelabeler("tiny").checkpoint == zoo / "tiny.pt"  # pixelseg label --model tiny
    with pytest.raises(ConfigurationError, match="model checkpoint: network file tyni does not exist, and it is not"):
        Prelabeler("tyni")

    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 28, 3), dtype=np.uint8)).save(images / "a.png")
    code, _, err = run_main(["predict", "tiny", str(images), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, err
    written = Image.open(tmp_path / "out" / "pred_a.png")
    assert written.size == (28, 20) and written.mode == "P"
    code, _, err = run_main(["predict", "tyni", str(images), "--out", str(tmp_path / "out2")], capsys)
    assert code == 2 and err.strip().splitlines() == [
        "error: checkpoint tyni does not exist, and it is not the name of a shipped network (tiny; "
        "`pixelseg models` lists them)"]
    code, out, _ = run_main(["models"], capsys)
    assert code == 0 and out.splitlines()[1].split()[0] == "tiny"


def test_int8_storage_quarters_the_weights_and_keeps_the_outputs(tmp_path):
    trained = tiny_network()
    full, small = trained.save(tmp_path / "full.pt"), trained.save(tmp_path / "int8.pt", precision="int8")
    stored = torch.load(small, weights_only=True)["state_dict"]
    conv = next(k for k in stored if k.endswith("weight") and stored[k].ndim == 4)
    assert stored[conv].dtype == torch.int8 and stored[conv + ":int8_scale"].shape[0] == stored[conv].shape[0]
    original = trained.network.state_dict()[conv.removeprefix("network.")]
    loaded = load_network(small)
    restored = loaded.network.state_dict()[conv.removeprefix("network.")]
    assert restored.dtype == torch.float32
    # symmetric per-output-channel rounding: at most half a step of max |w| / 127 off
    step = original.abs().amax(dim=(1, 2, 3), keepdim=True) / 127
    assert torch.all((restored - original).abs() <= step / 2 + 1e-7)
    full_bytes = sum(t.numel() * t.element_size() for t in torch.load(full, weights_only=True)["state_dict"].values())
    assert sum(t.numel() * t.element_size() for t in stored.values()) < 0.5 * full_bytes
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    assert (loaded(x).argmax(1) == trained(x).argmax(1)).float().mean() > 0.98
    with pytest.raises(ConfigurationError, match="precision must be one of float32, float16, int8, got 'int4'"):
        trained.save(tmp_path / "x.pt", precision="int4")


def test_a_network_trained_on_val_too_says_its_val_score_is_not_held_out(zoo):
    assert model_card("tiny").trained_splits == ["train"] and model_card("tiny").held_out_note() is None
    (zoo / "tiny.yaml").write_text(yaml.safe_dump(card("tiny", trained_splits=["train", "val"])))
    note = model_card("tiny").held_out_note()
    assert "trained on train + val" in note and "not held out" in note and "val mean IoU 0.5" in note
