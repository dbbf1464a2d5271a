"""The network registry: ``create_network(name, num_classes, **kwargs)``, ``list_networks()``
and ``register_network``.

A network registers its builder where it is defined, as torchvision's ``@register_model()``::

    @register_network("segnet")
    def segnet(image_size=None, num_classes=None, ...) -> SegNet: ...

The registry imports the built-in network modules itself the first time it is used (to
list, create or register a network), so the built-ins are there whatever was imported or
registered before. ``create_network(**net.config)`` rebuilds the architecture of any network
(then load its state dict), so a saved checkpoint needs no user code.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from pixelseg.errors import ConfigurationError
from pixelseg.conventions import means_no_weights
from pixelseg.models.base import SegmentationNetwork

Builder = TypeVar("Builder", bound=Callable[..., SegmentationNetwork])

#: The modules that define the built-in networks, in the order ``list_networks`` gives them.
BUILTIN_MODULES = ("pixelseg.models.segnet", "pixelseg.models.unet", "pixelseg.models.deeplabv3plus",
                   "pixelseg.models.fcn")

_NETWORKS: dict[str, Callable[..., SegmentationNetwork]] = {}
_BUILTIN_RANK: dict[str, int] = {}  # name -> position in BUILTIN_MODULES of the module defining it
_builtin_loaded = False


@overload
def register_network(name: str) -> Callable[[Builder], Builder]: ...
@overload
def register_network(name: str, builder: Builder) -> Builder: ...
def register_network(name, builder=None):
    """Make ``builder`` (a function taking ``num_classes`` and keywords, returning a network whose
    ``config`` rebuilds it) available to ``create_network`` as ``name``.

    Use it as a function, ``register_network("mine", build_mine)``, or as a decorator,
    ``@register_network("mine")`` above ``def build_mine(...)``; returns ``builder`` (the
    decorator form returns the decorator). A name registered again is replaced (a built-in
    name too: the built-ins are loaded first, so a user's registration wins).
    """
    if builder is None:
        return lambda function: register_network(name, function)
    _load_builtin()
    module = getattr(builder, "__module__", None)
    if module in BUILTIN_MODULES:
        _BUILTIN_RANK.setdefault(name, BUILTIN_MODULES.index(module))
    _NETWORKS[name] = builder
    return builder


def list_networks() -> list[str]:
    """Names accepted by ``create_network``: the built-ins "segnet", "unet", "deeplabv3plus",
    "fcn" first (in that order, also when a user's builder replaced one), then the other
    registered networks in the order of registration."""
    _load_builtin()
    return sorted(_NETWORKS, key=lambda name: _BUILTIN_RANK.get(name, len(BUILTIN_MODULES)))


def create_network(name: str, num_classes: int | None = None, **kwargs: Any) -> SegmentationNetwork:
    """Build the network ``name`` with ``num_classes`` classes; ``kwargs`` go to its builder
    (e.g. ``backbone="efficientnet_lite0"`` for "deeplabv3plus"; see ``segnet``, ``unet``,
    ``deeplabv3plus``, ``fcn``). ``weights="none"`` (any case, as a YAML config writes it) is
    ``weights=None``: random initialisation.

    Raises:
        ConfigurationError: an unknown name or keyword (the message lists the allowed ones), or
            a value the builder does not allow.

    Examples:
        >>> import torch
        >>> from pixelseg import create_network
        >>> net = create_network("unet", num_classes=3, encoder_depth=2, num_first_encoder_filters=4)
        >>> net.num_classes
        3
        >>> net(torch.rand(1, 3, 20, 30)).shape      # any input size: logits N x K x H x W
        torch.Size([1, 3, 20, 30])
        >>> create_network("unet", num_classes=3, depth=2)
        Traceback (most recent call last):
        ...
        pixelseg.errors.ConfigurationError: ...
    """
    names = list_networks()
    if name not in names:
        raise ConfigurationError(f"network name={name!r} is not allowed: use one of {names}")
    builder = _NETWORKS[name]
    allowed = [p for p in inspect.signature(builder).parameters if p != "num_classes"]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ConfigurationError(f"{name} does not take the argument(s) {unknown}: allowed {allowed}")
    if "weights" in kwargs and means_no_weights(kwargs["weights"]):
        kwargs["weights"] = None
    return builder(num_classes=num_classes, **kwargs)


def _load_builtin() -> None:
    """Import the built-in network modules once; each registers its network as it is defined.

    The flag is set before importing: a built-in module's own ``@register_network`` comes back
    here while the modules are being imported and must not import them again.
    """
    global _builtin_loaded
    if _builtin_loaded:
        return
    _builtin_loaded = True
    try:
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
    except BaseException:
        _builtin_loaded = False
        raise
