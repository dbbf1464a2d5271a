"""The network registry: ``create_network(name, num_classes, **kwargs)`` and ``list_networks()``.

``create_network(**net.config)`` rebuilds the architecture of any network (then load its
state dict), so a saved checkpoint needs no user code.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pixelseg.errors import ConfigurationError
from pixelseg.models.base import SegmentationNetwork

_NETWORKS: dict[str, Callable[..., SegmentationNetwork]] = {}


def register_network(name: str, builder: Callable[..., SegmentationNetwork]) -> None:
    """Make ``builder`` (a function taking ``num_classes`` and keywords) available as ``name``."""
    _NETWORKS[name] = builder


def list_networks() -> list[str]:
    """Names accepted by ``create_network``: "segnet", "unet", "deeplabv3plus", "fcn"."""
    _load_builtin()
    return list(_NETWORKS)


def create_network(name: str, num_classes: int | None = None, **kwargs: Any) -> SegmentationNetwork:
    """Build the network ``name`` with ``num_classes`` classes; ``kwargs`` go to its builder
    (e.g. ``backbone="efficientnet_lite0"`` for "deeplabv3plus"; see ``segnet``, ``unet``,
    ``deeplabv3plus``, ``fcn``).

    Raises:
        ConfigurationError: an unknown name or keyword (the message lists the allowed ones), or
            a value the builder does not allow.
    """
    _load_builtin()
    if name not in _NETWORKS:
        raise ConfigurationError(f"network name={name!r} is not allowed: use one of {list(_NETWORKS)}")
    builder = _NETWORKS[name]
    allowed = [p for p in inspect.signature(builder).parameters if p != "num_classes"]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ConfigurationError(f"{name} does not take the argument(s) {unknown}: allowed {allowed}")
    return builder(num_classes=num_classes, **kwargs)


def _load_builtin() -> None:
    if _NETWORKS:
        return
    from pixelseg.models.deeplabv3plus import deeplabv3plus
    from pixelseg.models.fcn import fcn
    from pixelseg.models.segnet import segnet
    from pixelseg.models.unet import unet

    for key, builder in (("segnet", segnet), ("unet", unet), ("deeplabv3plus", deeplabv3plus), ("fcn", fcn)):
        register_network(key, builder)
