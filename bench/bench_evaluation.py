"""Benchmark of pixelseg.evaluation (issue 9): confusion-matrix metrics and BF score.

Data: the CamVid validation label maps (101 x 360 x 480, ../shared/data/camvid/valannot,
void 11 -> 255) against noisy predictions (80 % of pixels kept, the rest random classes;
void truth pixels get a random class, since a prediction has no void).

Rows, each timed in this run (best of ``--repeat``):
- confusion-matrix metrics: pixelseg ``ConfusionMatrixAccumulator`` (update per image +
  compute), torchmetrics ``MulticlassConfusionMatrix`` (update per image + compute), and a
  bare numpy ``bincount`` of ``truth * K + pred`` over the non-void pixels;
- BF score of 101 images x 11 classes: pixelseg ``bf_score`` and the straightforward way
  (per image and class: erosion, two SciPy distance transforms).
Results are checked to agree before the timings are printed.

Usage: ``python bench/bench_evaluation.py [--images N] [--repeat R] [--data DIR]``
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
K = 11


def load(data: Path, count: int | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from PIL import Image

    files = sorted((data / "camvid" / "valannot").glob("*.png"))[:count]
    if not files:
        sys.exit(f"no CamVid validation labels under {data / 'camvid' / 'valannot'}")
    rng = np.random.default_rng(0)
    truths, preds = [], []
    for f in files:
        raw = np.asarray(Image.open(f))
        truth = np.where(raw >= K, 255, raw).astype(np.uint8)
        pred = np.where(truth == 255, rng.integers(0, K, truth.shape), truth).astype(np.uint8)
        noise = rng.random(truth.shape) >= 0.8
        pred[noise] = rng.integers(0, K, int(noise.sum()))
        truths.append(truth)
        preds.append(pred)
    return truths, preds


def best_of(fn, repeat: int):
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def ours_confusion(truths, preds):
    from pixelseg.evaluation import ConfusionMatrixAccumulator

    acc = ConfusionMatrixAccumulator(K)
    for t, p in zip(truths, preds):
        acc.update(p, t)
    acc.compute()
    return acc.confusion_matrix


def torchmetrics_confusion(truths, preds):
    import torch
    from torchmetrics.classification import MulticlassConfusionMatrix

    metric = MulticlassConfusionMatrix(K, ignore_index=255)
    for t, p in zip(truths, preds):
        metric.update(torch.from_numpy(p).long(), torch.from_numpy(t).long())
    return metric.compute().numpy()


def numpy_bincount(truths, preds):
    total = np.zeros(K * K, np.int64)
    for t, p in zip(truths, preds):
        valid = t != 255
        total += np.bincount(t[valid].astype(np.int64) * K + p[valid], minlength=K * K)
    return total.reshape(K, K)


def ours_bf(truths, preds):
    from pixelseg.evaluation import bf_score

    return np.stack([bf_score(p, t, K) for t, p in zip(truths, preds)])


def scipy_bf(truths, preds):
    """Straightforward BF: per image and class, boundaries by erosion, two EDTs."""
    from scipy import ndimage as ndi

    cross = ndi.generate_binary_structure(2, 1)
    out = np.full((len(truths), K), np.nan)
    for i, (t, p) in enumerate(zip(truths, preds)):
        theta = 0.0075 * math.hypot(*t.shape)
        for c in range(K):
            pm, tm = p == c, t == c
            pb = pm & ~ndi.binary_erosion(pm, cross, border_value=0)
            tb = tm & ~ndi.binary_erosion(tm, cross, border_value=0)
            if not pb.any() and not tb.any():
                continue
            if not pb.any() or not tb.any():
                out[i, c] = 0.0
                continue
            precision = np.mean(ndi.distance_transform_edt(~tb)[pb] < theta)
            recall = np.mean(ndi.distance_transform_edt(~pb)[tb] < theta)
            out[i, c] = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("PIXELSEG_SHARED_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--images", type=int, default=None, help="use the first N label maps (default all 101)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats for the fast rows (best kept)")
    args = parser.parse_args()
    import torch  # noqa: F401  (imported up front so no row pays for the import)
    import torchmetrics  # noqa: F401

    truths, preds = load(args.data, args.images)
    n = len(truths)
    pixels = sum(t.size for t in truths)
    print(f"CamVid val labels: {n} images {truths[0].shape}, {pixels / 1e6:.1f} M pixels, K = {K}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")

    t_ours, cm_ours = best_of(lambda: ours_confusion(truths, preds), args.repeat)
    t_tm, cm_tm = best_of(lambda: torchmetrics_confusion(truths, preds), args.repeat)
    t_np, cm_np = best_of(lambda: numpy_bincount(truths, preds), args.repeat)
    assert np.array_equal(cm_ours, cm_tm) and np.array_equal(cm_ours, cm_np), "confusion matrices differ"

    t_bf, bf = best_of(lambda: ours_bf(truths, preds), args.repeat)
    t_bf_ref, bf_ref = best_of(lambda: scipy_bf(truths, preds), 1)
    assert np.allclose(bf, bf_ref, equal_nan=True), "BF scores differ from the straightforward way"

    rows = [
        ("confusion metrics: pixelseg ConfusionMatrixAccumulator", t_ours, None),
        ("confusion metrics: torchmetrics MulticlassConfusionMatrix", t_tm, t_tm / t_ours),
        ("confusion metrics: bare numpy bincount", t_np, t_np / t_ours),
        (f"BF score {n} x {K}: pixelseg bf_score", t_bf, None),
        (f"BF score {n} x {K}: per-class scipy distance transform", t_bf_ref, t_bf_ref / t_bf),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'method'.ljust(width)}  {'seconds':>9}  {'baseline / pixelseg':>19}")
    for name, seconds, ratio in rows:
        print(f"{name.ljust(width)}  {seconds:9.4f}  {'' if ratio is None else f'{ratio:18.1f}x':>19}")
    print(f"goals: >= 10x torchmetrics ({t_tm / t_ours:.1f}x), within 1.5x of bare bincount "
          f"(pixelseg / bincount = {t_ours / t_np:.2f}), BF >= 10x the scipy way ({t_bf_ref / t_bf:.1f}x)")


if __name__ == "__main__":
    main()
