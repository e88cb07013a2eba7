"""Lookahead: keeps slow weights that follow the fast (base-optimizer) weights every k steps."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer

from ..errors import OptionsError

__all__ = ["Lookahead"]


class Lookahead(Optimizer):
    """Lookahead (Zhang et al., 2019) around any optimizer.

    Rule: after each base step every group's counter advances; every ``k`` steps, for each
    parameter with a gradient, ``slow += alpha·(p - slow)`` and ``p ← slow``. The slow copy is
    created lazily, on its first use, as a copy of the CURRENT fast weights (so the first sync
    leaves ``p`` unchanged), as in timm. The groups are the base optimizer's (with
    ``lookahead_alpha``, ``lookahead_k`` and ``lookahead_step`` added); ``state_dict`` and
    ``load_state_dict`` are the base optimizer's, so the slow weights travel in its state.

    Defaults: alpha=0.5, k=6.
    """

    def __init__(self, base_optimizer: Optimizer, alpha: float = 0.5, k: int = 6) -> None:
        if not isinstance(base_optimizer, Optimizer):
            raise OptionsError(f"Lookahead wraps a torch.optim.Optimizer, got {type(base_optimizer).__name__}")
        if not 0.0 <= alpha <= 1.0:
            raise OptionsError(f"invalid Lookahead alpha {alpha!r}: it must be in [0, 1]")
        if int(k) < 1:
            raise OptionsError(f"invalid Lookahead k {k!r}: it must be >= 1")
        self._base_optimizer = base_optimizer
        self._lookahead_defaults = dict(lookahead_alpha=alpha, lookahead_k=int(k), lookahead_step=0)
        self.defaults = base_optimizer.defaults
        self.defaults.update(self._lookahead_defaults)
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        for group in base_optimizer.param_groups:
            for key, value in self._lookahead_defaults.items():
                group.setdefault(key, value)

    @property
    def base_optimizer(self) -> Optimizer:
        """The wrapped optimizer."""
        return self._base_optimizer

    @property  # type: ignore[override]
    def param_groups(self) -> list[dict[str, Any]]:
        return self._base_optimizer.param_groups

    @param_groups.setter
    def param_groups(self, value: list[dict[str, Any]]) -> None:
        self._base_optimizer.param_groups = value

    @property  # type: ignore[override]
    def state(self) -> Any:
        return self._base_optimizer.state

    @state.setter
    def state(self, value: Any) -> None:
        self._base_optimizer.state = value

    def __repr__(self) -> str:
        return f"Lookahead({self._base_optimizer!r})"

    @torch.no_grad()
    def _sync_slow(self, group: dict[str, Any]) -> None:
        for fast in group["params"]:
            if fast.grad is None:
                continue
            state = self._base_optimizer.state[fast]
            slow = state.get("lookahead_slow_buff")
            if slow is None:
                slow = state["lookahead_slow_buff"] = fast.detach().clone()
            slow.lerp_(fast, group["lookahead_alpha"])
            fast.copy_(slow)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One base-optimizer step, then the slow-weight sync where a group's counter hits k."""
        loss = self._base_optimizer.step(closure)
        for group in self._base_optimizer.param_groups:
            group["lookahead_step"] += 1
            if group["lookahead_step"] % group["lookahead_k"] == 0:
                self._sync_slow(group)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (delegated to the base optimizer)."""
        self._base_optimizer.zero_grad(set_to_none=set_to_none)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group to the base optimizer, with the Lookahead settings."""
        self._base_optimizer.add_param_group(param_group)
        for key, value in self._lookahead_defaults.items():
            self._base_optimizer.param_groups[-1].setdefault(key, value)

    def state_dict(self) -> dict[str, Any]:
        """The base optimizer's state dict (slow weights included)."""
        return self._base_optimizer.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load into the base optimizer."""
        self._base_optimizer.load_state_dict(state_dict)
