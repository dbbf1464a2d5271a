"""export_onnx refuses opsets torch's exporter cannot honour (``--opset 1`` used to write
opset 18 silently) and checks the written model's opset."""

from __future__ import annotations

import onnx
import pytest
import torch
from onnx import helper

from pixelseg.checkpoint import TrainedNetwork
from pixelseg.cli import main
from pixelseg.data import ClassSet
from pixelseg.errors import ConfigurationError
from pixelseg.export import export_onnx
from pixelseg.export.onnx import MIN_OPSET, _check_written_opset, supported_opsets
from pixelseg.models import segnet


class _TinyNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


def test_supported_range_starts_at_the_exporters_own_opset():
    allowed = supported_opsets()
    assert allowed.start == MIN_OPSET == 18
    assert allowed.stop - 1 == onnx.defs.onnx_opset_version()


@pytest.mark.parametrize("opset", [1, 17, supported_opsets().stop, -3, 18.0, "18", True])
def test_unsupported_opsets_are_refused_before_exporting(opset, tmp_path):
    with pytest.raises(ConfigurationError, match=rf"opset={opset!r} is not supported.*18 to") as info:
        export_onnx(_TinyNet().eval(), tmp_path / "m.onnx", opset=opset, verify=False)
    assert str(supported_opsets().stop - 1) in str(info.value)
    assert not (tmp_path / "m.onnx").exists()


def test_cli_export_opset_1_is_one_sentence(tmp_path, capsys):
    net = segnet(image_size=(32, 48), num_classes=2, encoder_depth=1).eval()
    checkpoint = TrainedNetwork(network=net, class_set=ClassSet(["a", "b"])).save(tmp_path / "t.pt")
    with pytest.raises(SystemExit) as info:
        main(["export", str(checkpoint), str(tmp_path / "m.onnx"), "--opset", "1"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "opset=1 is not supported" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.onnx").exists()


def test_written_model_has_the_opset_asked_for(tmp_path):
    path = export_onnx(_TinyNet().eval(), tmp_path / "m.onnx", opset=20, dynamic_size=False, verify=False)
    versions = {o.domain: o.version for o in onnx.load(path).opset_import}
    assert versions[""] == 20


def test_a_model_written_at_another_opset_is_refused():
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    _check_written_opset(model, 18)
    _check_written_opset(model, None)
    with pytest.raises(ConfigurationError, match="opset=21 was asked for, but torch's exporter wrote opset 18"):
        _check_written_opset(model, 21)
