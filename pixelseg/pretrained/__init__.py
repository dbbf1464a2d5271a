"""Ready-trained networks shipped inside the package (``load_network("camvid")``, ``pixelseg models``).

Each shipped network is two files in this folder:

- ``<name>.pt``: a pixelseg network file (:meth:`pixelseg.checkpoint.TrainedNetwork.save` with
  ``precision="int8"``: convolution weights as int8 with a scale per output channel, the other
  parameters as float16, batch-norm statistics as float32; read back as float32, under 5 MB
  for the 3.9 M parameters of DeepLab v3+ Lite0);
- ``<name>.yaml``: its model card (data, split, exact command, commit, training time,
  validation scores of the run, latency, licence), plain YAML with the keys of
  :data:`CARD_KEYS`.

Nothing is downloaded: the files travel in the wheel and in a clone of the repository. A path
that exists always wins over a shipped name, so a local file called ``camvid`` is still read
as a file.

This module reads YAML only; it never imports torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixelseg.errors import DataError

__all__ = ["ModelCard", "CARD_KEYS", "pretrained_folder", "model_cards", "model_card", "resolve_network"]

#: The keys every model card has (more are allowed: per-class scores, notes).
CARD_KEYS = ("name", "summary", "network", "classes", "input_size", "trained_on", "data", "command", "commit",
             "training_time", "validation", "licence")
WEIGHTS_SUFFIX, CARD_SUFFIX = ".pt", ".yaml"


@dataclass(frozen=True)
class ModelCard:
    """The model card of one shipped network.

    Attributes:
        name: the name ``load_network`` takes (``"camvid"``).
        path: the network file (``<name>.pt``).
        fields: the whole card as read from ``<name>.yaml`` (keys :data:`CARD_KEYS` and more).
    """

    name: str
    path: Path
    fields: dict[str, Any]

    @property
    def validation(self) -> dict[str, Any]:
        """The card's ``validation`` block: ``split``, ``size`` and metric values (``mean_iou``, ...)."""
        return dict(self.fields.get("validation") or {})

    @property
    def trained_splits(self) -> list[str]:
        """The splits of its data set the shipped weights were trained on (the card's
        ``trained_splits``, e.g. ``["train", "val"]``); ``["train"]`` when the card does not say."""
        return [str(split) for split in (self.fields.get("trained_splits") or ["train"])]

    def held_out_note(self) -> str | None:
        """One sentence for reports that score this network on its data set's val split when it
        was trained on val too (the card's score is then that of its train-only run); else None."""
        if "val" not in self.trained_splits:
            return None
        score = self.validation.get("mean_iou")
        return (f"note: the shipped {self.name} was trained on {' + '.join(self.trained_splits)} of its data set, so on "
                f"its val images (such as the demo's sample) its score is not held out; the held-out "
                f"score on its card is the train-only run's val mean IoU {score} (`pixelseg models {self.name}`)")

    @property
    def size_mb(self) -> float:
        """Size of the network file in MB (10^6 bytes)."""
        return self.path.stat().st_size / 1e6

    def row(self) -> dict[str, Any]:
        """One line of ``pixelseg models``: name, summary, what it was trained on, validation mean
        IoU, latency in ms (PyTorch and onnxruntime, one 360 x 480 image), file size in MB, licence."""
        validation = self.validation
        latency = self.fields.get("latency_ms") or {}
        return {
            "name": self.name,
            "summary": self.fields["summary"],
            "trained_on": self.fields["trained_on"],
            "val_mean_iou": validation.get("mean_iou"),
            "pytorch_ms": latency.get("pytorch"),
            "onnx_ms": latency.get("onnxruntime"),
            "size_mb": round(self.size_mb, 1),
            "licence": self.fields["licence"],
        }


def pretrained_folder() -> Path:
    """The folder of the shipped networks (inside the installed package)."""
    return Path(__file__).resolve().parent


def model_cards(folder: str | os.PathLike | None = None) -> list[ModelCard]:
    """The cards of every shipped network, sorted by name.

    Args:
        folder: where to look (default: :func:`pretrained_folder`).

    Raises:
        DataError: a card is not valid YAML, lacks one of :data:`CARD_KEYS`, names another
            network than its file name, or its ``<name>.pt`` is missing (naming the file).
    """
    import yaml

    folder = Path(folder) if folder is not None else pretrained_folder()
    cards = []
    for card_path in sorted(folder.glob(f"*{CARD_SUFFIX}"), key=lambda p: p.name.removesuffix(CARD_SUFFIX)):
        try:
            fields = yaml.safe_load(card_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DataError(f"model card {card_path} is not valid YAML: {exc}") from None
        missing = [key for key in CARD_KEYS if not isinstance(fields, dict) or key not in fields]
        if missing:
            raise DataError(f"model card {card_path} lacks {', '.join(missing)}")
        name = card_path.name.removesuffix(CARD_SUFFIX)
        if fields["name"] != name:
            raise DataError(f"model card {card_path} names the network {fields['name']!r}, not {name!r}")
        weights = folder / f"{name}{WEIGHTS_SUFFIX}"
        if not weights.is_file():
            raise DataError(f"model card {card_path} has no network file {weights.name} beside it")
        cards.append(ModelCard(name=name, path=weights, fields=fields))
    return cards


def model_card(name: str, folder: str | os.PathLike | None = None) -> ModelCard:
    """The card of the shipped network ``name``.

    Raises:
        KeyError: no shipped network has that name (the message lists the names).
    """
    cards = {card.name: card for card in model_cards(folder)}
    if name not in cards:
        raise KeyError(f"no shipped network is called {name!r}; the shipped networks are {', '.join(cards) or 'none'}")
    return cards[name]


def resolve_network(source: str | os.PathLike, folder: str | os.PathLike | None = None,
                    role: str = "network file") -> Path:
    """The network file that ``source`` names: an existing path, else a shipped network's name.

    Args:
        source: a path (``runs/x/network.ckpt``) or the name of a shipped network (``"camvid"``).
        folder: where the shipped networks are (default: :func:`pretrained_folder`).
        role: what ``source`` is to the caller, for the message (``"checkpoint"``).

    Returns:
        The path of the file to read.

    Raises:
        FileNotFoundError: ``source`` is neither an existing path nor a shipped name; the
            message lists the shipped names and points to ``pixelseg models``.
    """
    path = Path(source)
    if path.exists():
        return path
    cards = {card.name: card for card in model_cards(folder)}
    if str(source) in cards:
        return cards[str(source)].path
    raise FileNotFoundError(
        f"{role} {source} does not exist, and it is not the name of a shipped network "
        f"({', '.join(cards) or 'none shipped'}; `pixelseg models` lists them)"
    )
