"""Print the ``validation`` block of a model card from an evaluation folder (``pixelseg evaluate
--out DIR``), so that the card's numbers are those the evaluation wrote, never typed by hand.

    python recipes/card_scores.py runs/camvid-ship/eval-half --split "CamVid val (101 images, 360 x 480)"
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml


def card_scores(folder: Path, split: str) -> dict:
    dataset = pd.read_csv(folder / "dataset_metrics.csv").iloc[0]
    classes = pd.read_csv(folder / "class_metrics.csv")
    block = {"split": split}
    for key in ("global_accuracy", "mean_accuracy", "mean_iou", "weighted_iou", "mean_bf_score"):
        block[key] = round(float(dataset[key]), 4)
    name = classes.columns[0]
    block["class_iou"] = {str(row[name]): round(float(row["iou"]), 4) for _, row in classes.iterrows()}
    return {"validation": block}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--split", required=True)
    args = parser.parse_args()
    print(yaml.safe_dump(card_scores(args.folder, args.split), sort_keys=False).rstrip())
