"""Int8 quantization benchmark (issue 20): int8 vs float onnxruntime on the demo network.

The demo's DeepLab v3+ on EfficientNet-Lite0 (11 classes, random weights: speed does not
depend on them) is exported to float ONNX at 360 x 480 and quantized to int8 with
:func:`pixelseg.export.quantize_onnx` (QDQ, per-channel int8 weights, uint8 activations,
MinMax calibration) on CamVid validation images when ``shared/data/camvid/val`` exists,
else on random images. Both models then label the same images with the same session
options (OnnxSegmenter, CPU provider), one image per run, alternating float and int8 rounds
so that a load change on a shared machine hits both; the best round of each is reported,
with the speed-up (the baseline is the float model, measured in the same run), the share of
pixels whose class agrees, the file sizes, the quantization time and the peak memory.

With random weights the agreement says little about accuracy (the logits of an untrained
head are close together); train a network and pass ``validation=`` to quantize_onnx for the
mean IoU change.

    python bench/bench_quantize.py [--images 8] [--rounds 3] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_inference import CAMVID_VAL, build_network, peak_rss_mb, table  # noqa: E402

SIZE = (360, 480)


def calibration_images(folder: Path, n: int) -> list[Path]:
    """n CamVid validation images resized to 360 x 480, else n random images, as PNGs."""
    from PIL import Image

    from pixelseg.data import ImageDatastore

    rng = np.random.default_rng(0)
    files = ImageDatastore(CAMVID_VAL).files[:n] if CAMVID_VAL.is_dir() else []
    written = []
    for i in range(n):
        if i < len(files):
            with Image.open(files[i]) as im:
                image = im.convert("RGB").resize(SIZE[::-1], Image.BILINEAR)
        else:
            image = Image.fromarray(rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8))
        written.append(folder / f"calib_{i}.png")
        image.save(written[-1])
    return written


def images_per_second(segmenter, images: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for image in images:
        segmenter.logits(image)
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8, help="calibration (and timing) images")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds of each model; best reported")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default its own)")
    args = parser.parse_args()

    from pixelseg.data import ImageDatastore
    from pixelseg.export import OnnxSegmenter, export_onnx, quantize_onnx

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = calibration_images(tmp, args.images)
        start = time.perf_counter()
        float_path = export_onnx(build_network(), tmp / "float.onnx", example_size=SIZE, verify=False)
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        report = quantize_onnx(float_path, tmp / "int8.onnx", files, num_threads=args.threads)
        quantize_s = time.perf_counter() - start
        memory = peak_rss_mb()
        images = [ImageDatastore(files).read(i) for i in range(len(files))]
        models = {name: OnnxSegmenter(tmp / f"{name}.onnx", num_threads=args.threads) for name in ("float", "int8")}
        rates = {name: [] for name in models}
        for seg in models.values():
            seg.logits(images[0])  # warm-up
        for _ in range(args.rounds):
            for name, seg in models.items():
                rates[name].append(images_per_second(seg, images))
        best = {name: max(r) for name, r in rates.items()}
        labels = {name: [seg.predict(image) for image in images] for name, seg in models.items()}
        agree = np.mean([np.mean(a == b) for a, b in zip(labels["float"], labels["int8"])])

    source = "CamVid val" if CAMVID_VAL.is_dir() else "random"
    table(f"int8 vs float onnxruntime, DeepLab v3+ (EfficientNet-Lite0), {SIZE[0]} x {SIZE[1]}, "
          f"{len(images)} {source} images, {args.rounds} rounds, threads {args.threads or 'default'}, "
          f"load average {load:.1f}", [
              ("float images/s (best round)", f"{best['float']:.2f}  (rounds: {', '.join(f'{r:.2f}' for r in rates['float'])})"),
              ("int8 images/s (best round)", f"{best['int8']:.2f}  (rounds: {', '.join(f'{r:.2f}' for r in rates['int8'])})"),
              ("speed-up int8 / float", f"{best['int8'] / best['float']:.2f}x"),
              ("quantize_onnx's own one-pass report", f"{report.int8_images_per_s:.2f} vs "
               f"{report.float_images_per_s:.2f} images/s ({report.speedup:.2f}x)"),
              ("classes agree (random weights)", f"{100 * agree:.1f}% of pixels"),
              ("file size int8 / float", f"{report.int8_bytes / 1e6:.2f} MB / {report.float_bytes / 1e6:.2f} MB"),
              ("float export / quantization time", f"{export_s:.1f} s / {quantize_s:.1f} s"),
              ("peak memory (through quantization)", f"{memory:.0f} MB"),
          ])


if __name__ == "__main__":
    main()
