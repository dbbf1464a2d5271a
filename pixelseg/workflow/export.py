"""The export job (``pixelseg export``): a checkpoint -> an ONNX model checked with onnxruntime."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pixelseg.errors import ConfigurationError
from pixelseg.workflow._common import open_checkpoint

__all__ = ["run_export"]

_log = logging.getLogger(__name__)


def run_export(checkpoint: str | Path, output: str | Path, opset: int | None = None,
               size: tuple[int, int] | str | None = None, fixed_size: bool = False, overwrite: bool = False,
               verify: bool = True, echo: Callable[[str], None] = _log.info) -> Path:
    """Export the network in ``checkpoint`` to the ONNX file ``output`` (class names and
    colours in its metadata) and report the onnxruntime-vs-PyTorch check.

    Args:
        checkpoint: a file of ``TrainedNetwork.save`` or a run checkpoint.
        output: the ``.onnx`` file to write.
        opset: ONNX opset (None: the exporter's).
        size: example input H x W (``"HxW"`` or a pair; None: the training size, else 96 x 128).
        fixed_size: fix batch 1 and ``size`` instead of dynamic axes.
        overwrite: replace an existing file.
        verify: check the model against PyTorch with onnxruntime.
        echo: receives the one-line summary; default: the logger (INFO).

    Returns:
        The path written.

    Raises:
        ConfigurationError: ``output`` is a folder, or a bad ``size``.
        DataError: not a pixelseg checkpoint. FileExistsError: ``output`` exists and
            ``overwrite`` is False. ExportVerificationError: the check failed.
    """
    import json

    from pixelseg.export import export_onnx
    from pixelseg.utils.extras import require
    from pixelseg.utils.sizes import parse_size

    onnx = require("onnx", "export", "pixelseg export")

    trained = open_checkpoint(checkpoint)
    output = Path(output)
    if output.is_dir():
        raise ConfigurationError(f"the output {output} is a folder; give a file name such as model.onnx")
    example = parse_size(size, "--size") or (tuple(trained.input_size) if getattr(trained, "input_size", None) else None)
    path = export_onnx(trained, output, opset=opset, dynamic_size=not fixed_size, example_size=example,
                       verify=verify, overwrite=overwrite)
    meta = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    checks = json.loads(meta.get("pixelseg.verification", "[]"))
    detail = ", ".join(f"{'x'.join(map(str, c['input_shape']))}: {c['max_abs_diff']:.1e}" for c in checks)
    echo(f"wrote {path}" + (f" (onnxruntime vs PyTorch max |difference| {detail})" if detail else " (not verified)"))
    return path
