"""Benchmark of the labeling server (issue 6): open and save a 4000 x 3000 label, SLIC.

Data: a synthetic 4000 x 3000 photo-like JPEG (smooth gradients, shapes, sensor noise)
and a label of 8 classes (polygons over void), in a temporary folder.

Rows, each timed in this run on the server side (the ASGI app called in-process through
Starlette's TestClient, so HTTP parsing is included but no network), best of ``--repeat``:
- open: ``GET /api/images/{name}`` + ``/image`` + ``/label`` (raw, gzip) against the
  baseline of decoding the two files with Pillow (what any viewer pays);
- save: ``PUT /api/images/{name}/label`` with a gzip body (version check, value check,
  palette PNG written atomically) against the baseline of encoding the same palette PNG
  with Pillow into memory;
- superpixels: ``pixelseg.labeling.superpixels.superpixels`` with the defaults (SLIC on
  the image shrunk to 800 px, segment map upsampled by nearest) and the whole
  ``/superpixels`` endpoint (JPEG decode + SLIC + gzip of the uint16 map), against the
  baseline of scikit-image ``slic`` at full resolution, measured on a 1000 x 750 crop
  and scaled by the pixel ratio (x16; SLIC is linear in pixels) unless ``--full-slic``.

Usage: ``python bench/bench_labeling.py [--repeat R] [--full-slic]``
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

H, W = 3000, 4000
TARGET_SLIC_S = 3.0


def make_project(folder: Path) -> np.ndarray:
    from PIL import Image, ImageDraw

    from pixelseg.data import ClassSet

    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    rng = np.random.default_rng(0)
    image = np.stack([xx / W * 200, yy / H * 180 + 30, (xx + yy) / (W + H) * 150 + 50], -1)
    canvas = Image.fromarray(image.astype(np.uint8))
    label = Image.new("L", (W, H), 255)
    draw_image, draw_label = ImageDraw.Draw(canvas), ImageDraw.Draw(label)
    for i in range(40):
        points = [(int(rng.integers(0, W)), int(rng.integers(0, H))) for _ in range(5)]
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw_image.polygon(points, fill=color)
        draw_label.polygon(points, fill=i % 8)
    noisy = np.asarray(canvas).astype(np.int16) + rng.integers(-6, 7, (H, W, 3))
    (folder / "images").mkdir()
    (folder / "labels").mkdir()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(folder / "images" / "big.jpg", quality=90)
    ClassSet([f"class {i}" for i in range(8)], void_ids=[255]).save(folder / "classes.json")
    return np.asarray(label)


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full-slic", action="store_true", help="time full-resolution SLIC (slow)")
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from PIL import Image
    from skimage.segmentation import slic

    from pixelseg.data.io import read_image
    from pixelseg.labeling import superpixels as sp
    from pixelseg.labeling.server import create_app

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        label = make_project(folder)
        client = TestClient(create_app(folder / "images", folder / "labels", folder / "classes.json"))
        write = {"X-Requested-With": "pixelseg", "Content-Encoding": "gzip"}
        body = gzip.compress(label.tobytes(), compresslevel=1)
        first = client.put("/api/images/big.jpg/label", content=body, headers={**write, "X-Label-Version": ""})
        assert first.status_code == 200, first.text
        version = first.json()["version"]

        def open_image():
            info = client.get("/api/images/big.jpg").json()
            image = client.get("/api/images/big.jpg/image")
            raw = client.get("/api/images/big.jpg/label", headers={"Accept-Encoding": "gzip"})
            assert image.status_code == raw.status_code == 200 and len(raw.content) == info["width"] * info["height"]

        def open_baseline():
            with Image.open(folder / "images" / "big.jpg") as img:
                img.load()
            with Image.open(folder / "labels" / "big.png") as png:
                png.load()

        def save_label():
            nonlocal version
            response = client.put("/api/images/big.jpg/label", content=body, headers={**write, "X-Label-Version": version})
            assert response.status_code == 200, response.text
            version = response.json()["version"]

        def save_baseline():
            png = Image.frombytes("P", (W, H), label.tobytes())
            png.putpalette([0] * 768)
            png.save(io.BytesIO(), format="PNG")

        rgb = read_image(folder / "images" / "big.jpg")
        settings = dict(n_segments=sp.DEFAULT_N_SEGMENTS, compactness=sp.DEFAULT_COMPACTNESS, max_side=sp.DEFAULT_MAX_SIDE)

        def endpoint():
            response = client.get("/api/images/big.jpg/superpixels", headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200

        rows = []
        t_open, t_open_base = best_of(args.repeat, open_image), best_of(args.repeat, open_baseline)
        rows.append(("open image + label (server)", t_open, "Pillow decode of both files", t_open_base))
        t_save, t_save_base = best_of(args.repeat, save_label), best_of(args.repeat, save_baseline)
        rows.append(("save label (server)", t_save, "Pillow palette-PNG encode", t_save_base))
        t_sp = best_of(args.repeat, lambda: sp.superpixels(rgb, **settings))
        t_ep = best_of(args.repeat, endpoint)
        if args.full_slic:
            t_full = best_of(1, lambda: slic(rgb, n_segments=settings["n_segments"], compactness=settings["compactness"], start_label=0))
            full_label = "skimage slic, full resolution"
        else:
            crop = np.ascontiguousarray(rgb[:750, :1000])
            t_full = 16 * best_of(1, lambda: slic(crop, n_segments=settings["n_segments"] // 16, compactness=settings["compactness"], start_label=0))
            full_label = "skimage slic full-res (crop x16)"
        rows.append(("superpixels() 4000x3000", t_sp, full_label, t_full))
        rows.append(("/superpixels endpoint", t_ep, full_label, t_full))

    print(f"labeling server, {W} x {H}, best of {args.repeat}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, {os.cpu_count()} CPUs")
    print(f"SLIC setting: n_segments={settings['n_segments']}, compactness={settings['compactness']}, max_side={settings['max_side']}")
    print(f"{'operation':32s} {'time s':>8s}   {'baseline':34s} {'time s':>8s} {'ratio':>7s}")
    for name, t, base_name, t_base in rows:
        print(f"{name:32s} {t:8.3f}   {base_name:34s} {t_base:8.3f} {t / t_base:7.2f}")
    verdict = "under" if t_sp < TARGET_SLIC_S else "OVER"
    print(f"superpixels() {t_sp:.2f} s: {verdict} the {TARGET_SLIC_S:.0f} s target (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
