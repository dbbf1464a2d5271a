"""``pixelseg predict CHECKPOINT (INPUTS... | --data FILE | VIDEO) --out DIR|VIDEO``: arguments of :func:`pixelseg.workflow.predict.run_predict`."""

from __future__ import annotations

from pathlib import Path

import typer

from pixelseg.errors import ConfigurationError


def _parse_scales(text: str | None) -> tuple[float, ...] | None:
    """``--tta-scales "0.75,1,1.25"`` -> ``(0.75, 1.0, 1.25)``; ConfigurationError naming the text."""
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


def register(app: typer.Typer) -> None:
    """Add the ``predict`` command to ``app``."""

    @app.command("predict")
    def predict(
        checkpoint: Path = typer.Argument(..., metavar="CHECKPOINT", help="A network saved by pixelseg (TrainedNetwork.save or a run checkpoint), or the name of a "
                                      "shipped network (pixelseg models: camvid)."),
        inputs: list[str] | None = typer.Argument(None, metavar="INPUTS", help="Image files, folders or glob patterns (quote them); or one video (.mp4, .avi, .mov, .mkv, .webm)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder for the label PNGs/TIFFs (created); for a video, the output video (labels.mp4); with --tile-size and one image, a .tif or .png name is the label file itself."),
        overlay: bool = typer.Option(False, "--overlay", help="Also write DIR/overlays/<stem>.png; for a video, blend the frames with the class colours."),
        tile_size: int = typer.Option(None, "--tile-size", min=16, help="Label large images in tiles of at most N x N pixels."),
        overlap: int = typer.Option(None, "--overlap", min=0, help="Tile overlap in pixels (default tile/8)."),
        mini_batch_size: int = typer.Option(None, "--mini-batch-size", min=1, help="Images per forward pass (default "
                                            "8), or tiles with --tile-size (default: about 1 megapixel, 4 tiles of 512)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:1, mps."),
        tta: bool = typer.Option(False, "--tta", help="Average the scores of the image and its mirror image."),
        input_size: str = typer.Option(None, "--input-size", help="Resize images to HxW for the network; labels keep "
                                       "each image's size. Default: the training size stored in the checkpoint; "
                                       "'native': each image at its own size."),
        tta_scales: str = typer.Option(None, "--tta-scales", help="Multi-scale test-time augmentation: comma-separated "
                                       "scales, e.g. 0.75,1,1.25 (image and mirror at each; implies --tta)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
        skip_unreadable: bool = typer.Option(False, "--skip-unreadable", help="Report and skip images that cannot be read."),
        name_prefix: str = typer.Option("pred_", "--prefix", help="Prefix of the output file names."),
        data: Path | None = typer.Option(None, "--data", help="Instead of INPUTS: the images of a YAML file's data: "
                                                               "block (train.yaml); outputs keep their group folders."),
        split: str | None = typer.Option(None, "--split", help="With --data: the split labelled (default test, else "
                                                                "the validation split, else all)."),
        roi: str | None = typer.Option(None, "--roi", help="Region of interest of every input: a mask file (nonzero "
                                       "inside) or x,y,width,height in 0-based pixels; outside is written as 255 "
                                       "(void). With --data, the data block's region masks are used."),
        ray: str | None = typer.Option(None, "--ray", metavar="ADDRESS", help="Label on a Ray cluster (the ray extra): "
                                       "local (a new one on this machine), auto (the one 'ray start' began here) or "
                                       "HOST:PORT. Existing outputs are kept (run again to resume). With --tile-size, the "
                                       "tiles of each image are spread over the workers (the image file must be at "
                                       "the same path on every node)."),
        workers: int | None = typer.Option(None, "--workers", min=1, help="With --ray: worker processes (default one "
                                           "per CPU of the cluster)."),
        cog: bool = typer.Option(False, "--cog", help="With --tile-size: write Cloud Optimized GeoTIFFs (needs the "
                                 "geo extra). GeoTIFF inputs keep their CRS and transform without it."),
        bands: str | None = typer.Option(None, "--bands", help="With --tile-size: the raster bands read, counted "
                                         "from 1, e.g. 4,3,2 (default the first 3; needs the geo extra)."),
        label_maps: Path | None = typer.Option(None, "--label-maps", help="With a video: also write each frame's "
                                               "label map (class indices, 255 void) as a PNG into DIR."),
    ) -> None:
        """Label images with a trained network; write palette PNGs (tiled TIFFs with --tile-size), or a video's labels as a video."""
        from pixelseg.workflow.predict import run_predict

        run_predict(checkpoint, inputs or [], out, overlay=overlay, tile_size=tile_size, overlap=overlap,
                    mini_batch_size=mini_batch_size, device=device, tta=_parse_scales(tta_scales) or tta,
                    input_size=input_size, overwrite=overwrite, skip_unreadable=skip_unreadable,
                    name_prefix=name_prefix, data=data, split=split, roi=roi, ray=ray, workers=workers,
                    cog=cog, bands=bands, label_maps=label_maps)
