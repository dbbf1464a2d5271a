"""``DivergenceGuard``: what "the last good weights" means when the loss becomes NaN or infinite.

A training forward pass changes the network before the loss exists: batch normalisation
updates its running mean and variance from the mini-batch. When the weights have grown huge
(a learning rate of 1e6), that pass overflows and leaves running variances of ``inf``, and a
network saved then predicts class 0 everywhere (argmax of NaN scores). So each iteration:

1. :meth:`DivergenceGuard.before_forward` copies the network's state (weights and buffers) on
   its own device (no host transfer);
2. :meth:`DivergenceGuard.is_finite` tests, with one host-device sync, that the loss, every
   weight and every floating-point buffer (running statistics) are finite, before the
   backward pass and the optimizer step;
3. on failure :meth:`DivergenceGuard.restore_last_good` puts back the last good state.

The last good state is the newest of these whose weights and statistics are finite and give
finite scores (probed in eval mode, as ``semanticseg`` runs the network, on the failing
mini-batch with its NaN/inf pixels set to 0): the state the failing iteration started from
(when the data was to blame), the start of the iteration before, or the anchor, a CPU copy
taken every ``anchor_every`` iterations of a state that passed the same probe (a learning rate
of 1e6 spoils the network in one step, while its loss stays finite for a few more). When
the state put back is an older one, or the optimizer's moment estimates hold NaN or infinity,
the optimizer state is reset, so that a resumed run does not repeat the diverging steps.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["DivergenceGuard"]


class DivergenceGuard:
    """Keep the last states of ``network`` known to be good; restore the newest on divergence.

    Memory: two copies of the network's weights and buffers on their device, one on the CPU.

    Args:
        network: the module being trained.
        anchor_every: iterations between anchor copies (each costs one eval forward pass on
            the mini-batch and one copy to the CPU).

    Attributes:
        restored: after :meth:`restore_last_good`, True when a good state was put back.
        rolled_back: True when that state is older than the failing iteration's start (the
            weights that iteration started from were themselves bad).
    """

    def __init__(self, network: nn.Module, anchor_every: int = 50) -> None:
        self.network = network
        self.anchor_every = anchor_every
        self._iterations = 0
        self._anchor: dict[str, torch.Tensor] | None = None  # CPU copy of a probed state
        self._current: dict[str, torch.Tensor] | None = None  # the state at the start of this iteration
        self._previous: dict[str, torch.Tensor] | None = None  # the start of the last iteration that passed
        self.restored = False
        self.rolled_back = False

    def _state(self) -> dict[str, torch.Tensor]:
        return self.network.state_dict(keep_vars=False)

    def before_forward(self, images: torch.Tensor) -> None:
        """Copy the network's weights and buffers before the forward pass on ``images`` changes them."""
        state = self._state()
        if self._iterations % self.anchor_every == 0 and self._gives_finite_scores(images):
            self._anchor = {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
        self._iterations += 1
        if self._current is None or self._current.keys() != state.keys():
            self._current = {k: v.detach().clone() for k, v in state.items()}
            return
        with torch.no_grad():
            for key, value in state.items():
                self._current[key].copy_(value, non_blocking=True)

    def is_finite(self, loss: torch.Tensor) -> bool:
        """True when ``loss``, the weights and the floating-point buffers are all finite.

        One host-device sync; after True, the state copied by :meth:`before_forward` becomes
        the fallback of the next failure.
        """
        tensors = [t for t in self._state().values() if t.is_floating_point()]
        with torch.no_grad():
            largest = nn.utils.get_total_norm(tensors, norm_type=math.inf) if tensors else loss.new_zeros(())
            ok = bool(torch.isfinite(loss.detach().float()) & torch.isfinite(largest.float()))
        if ok and self._current is not None:
            self._previous, self._current = self._current, self._previous
        return ok

    def restore_last_good(self, images: torch.Tensor, optimizer: torch.optim.Optimizer | None = None) -> bool:
        """Put back the last good state after a non-finite check; returns :attr:`restored`.

        Args:
            images: the failing mini-batch (N x C x H x W), used to probe the scores.
            optimizer: its state tensors are cleared when any holds NaN or infinity.
        """
        self.restored = self.rolled_back = False
        probe = torch.nan_to_num(images.detach(), nan=0.0, posinf=0.0, neginf=0.0)
        for state, rolled_back in ((self._current, False), (self._previous, True), (self._anchor, True)):
            if state is None:
                continue
            self.network.load_state_dict(state)
            if self._gives_finite_scores(probe):
                self.restored, self.rolled_back = True, rolled_back
                break
        if optimizer is not None and (self.rolled_back or not _finite_state(optimizer)):
            optimizer.state.clear()
        return self.restored

    def _gives_finite_scores(self, images: torch.Tensor) -> bool:
        """True when the weights and buffers are finite and the eval-mode scores of ``images`` too."""
        tensors = [t for t in self._state().values() if t.is_floating_point()]
        if tensors and not bool(torch.isfinite(nn.utils.get_total_norm(tensors, norm_type=math.inf))):
            return False
        was_training = self.network.training
        self.network.eval()
        try:
            with torch.no_grad():
                return bool(torch.isfinite(self.network(images)).all())
        finally:
            self.network.train(was_training)


def _finite_state(optimizer: torch.optim.Optimizer) -> bool:
    """True when every floating-point tensor of the optimizer's state is finite."""
    for state in optimizer.state.values():
        for value in state.values():
            if torch.is_tensor(value) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
                return False
    return True
