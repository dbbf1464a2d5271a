"""``pixelseg predict`` and ``pixelseg export``: label images with a checkpoint; export to ONNX.

``pixelseg predict CHECKPOINT INPUTS... --out DIR [--overlay] [--tile-size N]`` writes one
palette PNG of class indices per input (``pred_<stem>.png``), or with ``--tile-size`` labels
each input tile by tile (TIFF inputs read lazily, written as tiled TIFF ``pred_<stem>.tif``).
``--overlay`` also writes ``DIR/overlays/<stem>.png`` (image and class colours blended).

``pixelseg export CHECKPOINT OUT.onnx`` writes an ONNX model checked with onnxruntime.
"""

from __future__ import annotations

from pathlib import Path

import typer

from pixelseg.errors import ConfigurationError, DataError, PixelsegError
from pixelseg.utils.sizes import parse_size

_TIFF = (".tif", ".tiff")
#: Overlays of tiled outputs are written only up to this many pixels (they are made in memory).
MAX_OVERLAY_PIXELS = 64_000_000


def load_checkpoint(path: Path):
    """``load_network(path)`` with one-sentence errors for files that are not pixelseg checkpoints."""
    from pixelseg.checkpoint import load_network

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    if path.is_dir():
        raise DataError(f"checkpoint {path} is a folder, not a pixelseg checkpoint file")
    try:
        return load_network(path)
    except PixelsegError as exc:
        lines = str(exc).strip().splitlines()
        if len(lines) <= 1:
            raise
        first = lines[0].split(". ")[0].rstrip(" .:")
        raise DataError(first if str(path) in first else f"{path} is not a pixelseg checkpoint: {first}") from None
    except Exception as exc:  # torch.load and friends raise many kinds
        raise DataError(f"{path} is not a pixelseg checkpoint ({type(exc).__name__}: {exc})") from None


def _output_folder(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise ConfigurationError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _input_files(inputs: list[str]) -> list[Path]:
    from pixelseg.inference.sources import image_datastore

    files: list[Path] = []
    for spec in inputs:
        files.extend(Path(f) for f in image_datastore(spec).files)
    if not files:
        raise DataError(f"no image files found in {', '.join(inputs)}")
    return files


def tile_batch_size(tile_size: int, pixels: int = 4 * 512 * 512) -> int:
    """Tiles per forward pass so that a batch holds about ``pixels`` (4 tiles of 512, 1 of
    1024): the network's activations, not the image, bound the memory of tiled inference,
    and they grow with the batch's pixels (8 tiles of 1024 peaked at 3.5 GB)."""
    return max(1, pixels // (tile_size * tile_size))


def _overlay_paths(files: list[Path], out: Path) -> list[Path]:
    return [out / "overlays" / f"{f.stem}.png" for f in files]


def _write_overlays(pairs, class_set, folder: Path, overwrite: bool, echo) -> int:
    """pairs: iterable of (input image path, label map path); writes folder/<stem>.png."""
    import numpy as np

    from pixelseg.data import ImageDatastore
    from pixelseg.data.io import read_label_raw
    from pixelseg.inference.overlay import label_overlay
    from pixelseg.utils.atomic import save_png

    folder.mkdir(exist_ok=True)
    count = 0
    for image_path, label_path in pairs:
        labels = np.asarray(read_label_raw(label_path))
        if labels.shape[0] * labels.shape[1] > MAX_OVERLAY_PIXELS:
            echo(f"overlay skipped for {image_path.name}: {labels.shape[1]} x {labels.shape[0]} is too large for one picture")
            continue
        image = ImageDatastore([image_path]).read(0)
        overlay = label_overlay(image, labels, colormap=class_set)
        save_png(overlay, folder / f"{image_path.stem}.png", overwrite=overwrite)
        count += 1
    return count


def run_predict(checkpoint: Path, inputs: list[str], out: Path, overlay: bool = False,
                tile_size: int | None = None, overlap: int | None = None, mini_batch_size: int | None = None,
                device: str = "auto", tta: bool | tuple[float, ...] = False, input_size=None, overwrite: bool = False,
                skip_unreadable: bool = False, name_prefix: str = "pred_", echo=print) -> list[Path]:
    """The work of ``pixelseg predict``; returns the label files written (input order)."""
    from pixelseg.inference import semanticseg, semanticseg_tiled
    from pixelseg.inference.predictor import default_class_set
    from pixelseg.utils.atomic import check_output_paths

    if tile_size is not None and input_size is not None:
        raise ConfigurationError("--input-size cannot be combined with --tile-size: tiles are labelled at the "
                                 "image's own resolution (resize the image first, or leave out one of them)")
    trained = load_checkpoint(checkpoint)
    out = _output_folder(Path(out))
    files = _input_files(inputs)
    class_set = default_class_set(trained.num_classes, trained.class_set)
    if overlay:  # before any labelling: a clash found after it would waste the run
        check_output_paths(files, _overlay_paths(files, out), overwrite)
    if tile_size is None:
        pxds = semanticseg(files, trained, mini_batch_size=mini_batch_size or 8, write_location=out,
                           name_prefix=name_prefix, device=device, tta=tta, class_set=class_set, input_size=input_size,
                           overwrite=overwrite, on_error="skip" if skip_unreadable else "raise")
        written = list(pxds.files)
        by_name = {f"{name_prefix}{f.stem}": f for f in files}
        pairs = [(by_name[p.stem], p) for p in written]
    else:
        targets = [out / f"{name_prefix}{f.stem}{'.tif' if f.suffix.lower() in _TIFF else '.png'}" for f in files]
        check_output_paths(files, targets, overwrite)
        for f, target in zip(files, targets):
            semanticseg_tiled(f, trained, target, tile_size=tile_size, overlap=overlap,
                              mini_batch_size=mini_batch_size or tile_batch_size(tile_size), device=device, tta=tta,
                              class_set=class_set, overwrite=overwrite)
        written, pairs = targets, list(zip(files, targets))
    echo(f"labelled {len(written)} image(s) into {out} ({class_set.num_classes} classes)")
    if overlay:
        n = _write_overlays(pairs, class_set, out / "overlays", overwrite, echo)
        echo(f"wrote {n} overlay(s) into {out / 'overlays'}")
    return written


def _parse_scales(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    from pixelseg.inference.predictor import MAX_TTA_SCALE

    try:
        scales = tuple(float(v) for v in text.split(",") if v.strip())
        if not scales or not all(0 < v <= MAX_TTA_SCALE for v in scales):
            raise ValueError
    except ValueError:
        raise ConfigurationError(f"--tta-scales must be positive numbers up to {MAX_TTA_SCALE:g} separated by "
                                 f"commas (e.g. 0.75,1,1.25), got {text!r}") from None
    return scales


def run_export(checkpoint: Path, output: Path, opset: int | None = None, size: str | None = None,
               fixed_size: bool = False, overwrite: bool = False, verify: bool = True, echo=print) -> Path:
    """The work of ``pixelseg export``; returns the path written."""
    import json

    import onnx

    from pixelseg.export import export_onnx

    trained = load_checkpoint(checkpoint)
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


def register(app: typer.Typer) -> None:
    """Add the ``predict`` and ``export`` commands to ``app``."""

    @app.command("predict")
    def predict(
        checkpoint: Path = typer.Argument(..., help="A network saved by pixelseg (TrainedNetwork.save or a run checkpoint)."),
        inputs: list[str] = typer.Argument(..., help="Image files, folders or glob patterns (quote them)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder for the label PNGs/TIFFs (created)."),
        overlay: bool = typer.Option(False, "--overlay", help="Also write DIR/overlays/<stem>.png."),
        tile_size: int = typer.Option(None, "--tile-size", min=16, help="Label large images in tiles of at most N x N pixels."),
        overlap: int = typer.Option(None, "--overlap", min=0, help="Tile overlap in pixels (default tile/8)."),
        mini_batch_size: int = typer.Option(None, "--mini-batch-size", min=1, help="Images per forward pass (default "
                                            "8), or tiles with --tile-size (default: about 1 megapixel, 4 tiles of 512)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:1, mps."),
        tta: bool = typer.Option(False, "--tta", help="Average the scores of the image and its mirror image."),
        input_size: str = typer.Option(None, "--input-size", help="Resize images to HxW for the network (e.g. the "
                                       "training size 192x256); labels keep each image's size."),
        tta_scales: str = typer.Option(None, "--tta-scales", help="Multi-scale test-time augmentation: comma-separated "
                                       "scales, e.g. 0.75,1,1.25 (image and mirror at each; implies --tta)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
        skip_unreadable: bool = typer.Option(False, "--skip-unreadable", help="Report and skip images that cannot be read."),
        name_prefix: str = typer.Option("pred_", "--prefix", help="Prefix of the output file names."),
    ) -> None:
        """Label images with a trained network; write palette PNGs (tiled TIFFs with --tile-size)."""
        run_predict(checkpoint, inputs, out, overlay=overlay, tile_size=tile_size, overlap=overlap,
                    mini_batch_size=mini_batch_size, device=device, tta=_parse_scales(tta_scales) or tta,
                    input_size=parse_size(input_size, "--input-size"), overwrite=overwrite,
                    skip_unreadable=skip_unreadable, name_prefix=name_prefix, echo=typer.echo)

    @app.command("export")
    def export(
        checkpoint: Path = typer.Argument(..., help="A network saved by pixelseg."),
        output: Path = typer.Argument(..., help="The .onnx file to write."),
        opset: int = typer.Option(None, "--opset", help="ONNX opset (default: the exporter's)."),
        size: str = typer.Option(None, "--size", help="Example input HxW (default: the training size, else 96x128)."),
        fixed_size: bool = typer.Option(False, "--fixed-size", help="Fix batch 1 and --size instead of dynamic axes."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
        verify: bool = typer.Option(True, "--verify/--no-verify", help="Check against PyTorch with onnxruntime."),
    ) -> None:
        """Export a trained network to ONNX (class names and colours in its metadata)."""
        run_export(checkpoint, output, opset=opset, size=size, fixed_size=fixed_size,
                   overwrite=overwrite, verify=verify, echo=typer.echo)
