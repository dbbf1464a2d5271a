"""The automatic recipe within a time budget, against the hand-tuned recipe at the same wall time (issue 17).

For each budget (minutes) and dataset of ``../shared/data``, runs

- ``pixelseg train --data DATASET --time-budget B`` (the automatic recipe), and for camvid
- ``pixelseg train --config recipes/camvid.yaml --time-budget B`` (the hand-tuned recipe,
  every setting kept, its epochs fit to the same budget),

each in its own run folder ``OUT/<dataset>-<auto|recipe>-<B>m``, and prints the mean IoU on
the validation data the run reports (camvid: the 101 val images at 360 x 480; isbi_membrane:
the 6 images the automatic recipe holds out, seed 0) with the wall time of each run.

A row whose folder holds ``result.json`` is not run again, so a bench stopped part way
continues where it stopped; a run folder made by hand with the same command is taken as it is
(its wall time is the "done in" line of ``<folder>.log``). Runs are sequential: two runs side
by side on 2 cores would each measure a slower step and plan a shorter run.

    python bench/bench_auto_budget.py --budgets 10 30 60 [--datasets camvid isbi_membrane]
    python bench/bench_auto_budget.py --kinds recipe --datasets camvid --budgets 15 30 60 120 180

The second line is the recipe's time to accuracy: the validation mean IoU it reaches when
given so many minutes (each budget a run of its own, the schedule spanning it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "pixelseg"


RECIPE = ROOT / "recipes" / "camvid.yaml"


def _command(kind: str, dataset: Path, minutes: float, folder: Path, recipe: Path) -> list[str]:
    budget = f"{minutes:g}m"
    if kind == "auto":
        return [str(EXE), "train", "--data", str(dataset), "--time-budget", budget, "--output", str(folder)]
    return [str(EXE), "train", "--config", str(recipe), "--set", f"data.root={dataset}",
            "--time-budget", budget, "--output", str(folder)]


def _scores(folder: Path) -> dict:
    """The closing evaluation of a run folder: ``metrics.json`` (automatic recipe) or
    ``validation_metrics.json`` (a config's run)."""
    for name in ("metrics.json", "validation_metrics.json"):
        if (folder / name).is_file():
            metrics = json.loads((folder / name).read_text())["dataset_metrics"]
            return {k: float(v[0] if isinstance(v, list) else v) for k, v in metrics.items()}
    raise FileNotFoundError(f"{folder} holds no metrics.json or validation_metrics.json")


def _planned_epochs(folder: Path) -> int | None:
    text = (folder / "config.yaml").read_text() if (folder / "config.yaml").is_file() else ""
    found = re.search(r"options\.max_epochs = (\d+)", text)
    return int(found.group(1)) if found else None


def run_row(kind: str, dataset: Path, minutes: float, out: Path, recipe: Path = RECIPE) -> dict:
    label = kind if kind == "auto" or recipe.resolve() == RECIPE else f"{kind}-{recipe.stem}"
    folder = out / f"{dataset.name}-{label}-{minutes:g}m"
    result_file = folder / "result.json"
    if result_file.is_file():
        return json.loads(result_file.read_text())
    log = folder.with_name(folder.name + ".log")
    load_before = os.getloadavg()[0]
    if not (folder / "network.ckpt").is_file():
        start = time.perf_counter()
        with open(log, "w") as stream:
            code = subprocess.run(_command(kind, dataset, minutes, folder, recipe), stdout=stream, stderr=subprocess.STDOUT,
                                  cwd=ROOT).returncode
        wall = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"{kind} on {dataset.name} ({minutes:g} min) failed with exit code {code}: see {log}")
    else:  # run by hand with the same command: its own report of the time
        wall = float(re.findall(r"done in (\d+) s", log.read_text(errors="replace"))[-1])
    result = {"dataset": dataset.name, "kind": kind, "budget_s": minutes * 60, "wall_s": round(wall, 1),
              "epochs": _planned_epochs(folder), "load_average_before": load_before,
              "load_average_after": os.getloadavg()[0], **_scores(folder)}
    result_file.write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[10, 30, 60], help="minutes")
    parser.add_argument("--datasets", nargs="+", default=["camvid", "isbi_membrane"])
    parser.add_argument("--data-root", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-auto")
    parser.add_argument("--kinds", nargs="+", default=["auto", "recipe"], choices=["auto", "recipe"],
                        help="auto: the automatic recipe; recipe: --recipe fit to the budget (camvid only)")
    parser.add_argument("--recipe", type=Path, default=RECIPE, help="the hand-tuned camvid config")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for minutes in args.budgets:
        for name in args.datasets:
            dataset = (args.data_root / name).resolve()
            if not dataset.is_dir():
                print(f"skipping {name}: no {dataset}")
                continue
            kinds = [k for k in args.kinds if k == "auto" or name == "camvid"]
            for kind in kinds:
                rows.append(run_row(kind, dataset, minutes, args.out, args.recipe))
                r = rows[-1]
                print(f"{r['dataset']:14s} {r['kind']:6s} {minutes:4g} min: mean IoU {r['mean_iou']:.4f}, "
                      f"wall {r['wall_s']:.0f} s ({r['wall_s'] / r['budget_s']:.0%} of the budget), "
                      f"{r['epochs']} epochs", flush=True)
    print("\n| budget | dataset | automatic recipe | hand-tuned recipe | auto - recipe | wall time (auto, recipe) |")
    print("|---|---|---|---|---|---|")
    for minutes in args.budgets:
        for name in args.datasets:
            auto = [r for r in rows if r["dataset"] == name and r["kind"] == "auto" and r["budget_s"] == minutes * 60]
            tuned = [r for r in rows if r["dataset"] == name and r["kind"] == "recipe" and r["budget_s"] == minutes * 60]
            if not auto and tuned:
                t = tuned[0]
                print(f"| {minutes:g} min | {name} | - | {t['mean_iou']:.3f} | - | -, {t['wall_s']:.0f} s |")
            if not auto:
                continue
            a, t = auto[0], (tuned[0] if tuned else None)
            print(f"| {minutes:g} min | {name} | {a['mean_iou']:.3f} | {t['mean_iou']:.3f} | "
                  f"{a['mean_iou'] - t['mean_iou']:+.3f} | {a['wall_s']:.0f} s, {t['wall_s']:.0f} s |" if t else
                  f"| {minutes:g} min | {name} | {a['mean_iou']:.3f} | - | - | {a['wall_s']:.0f} s |")


if __name__ == "__main__":
    main()
