"""The models job (``pixelseg models [NAME]``): the networks shipped with pixelseg and their cards."""

from __future__ import annotations

from collections.abc import Callable

from pixelseg.errors import ConfigurationError
from pixelseg.pretrained import model_card, model_cards

__all__ = ["run_models", "models_table"]


def models_table(folder=None) -> str:
    """The shipped networks, one line each: name, summary, what they were trained on, validation
    mean IoU, PyTorch and onnxruntime latency (ms), file size (MB) and licence; a sentence when
    none ships."""
    import pandas as pd

    rows = [card.row() for card in model_cards(folder)]
    if not rows:
        return "no networks are shipped with this installation"
    return pd.DataFrame(rows).to_string(index=False)


def run_models(name: str | None = None, echo: Callable[[str], None] = print, folder=None) -> None:
    """Print the table of shipped networks, or with ``name`` that network's whole model card
    (YAML) and the path of its file.

    Raises:
        ConfigurationError: no shipped network is called ``name`` (the message lists them).
    """
    if name is None:
        echo(models_table(folder))
        echo("load one with load_network(NAME) or use its name in place of a checkpoint: "
             "pixelseg predict NAME IMAGES --out DIR; pixelseg models NAME shows its card")
        return
    import yaml

    try:
        card = model_card(name, folder)
    except KeyError as exc:
        raise ConfigurationError(exc.args[0]) from None
    echo(yaml.safe_dump(card.fields, sort_keys=False, allow_unicode=True, width=100).rstrip())
    echo(f"file: {card.path} ({card.size_mb:.1f} MB)")
