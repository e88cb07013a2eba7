"""Lion: sign of an interpolated momentum (Chen et al., 2023)."""

from __future__ import annotations

from typing import Any

import torch

from ._base import PimmOptimizer, cautious_, check_betas, check_range, decay_lr

__all__ = ["Lion"]


class Lion(PimmOptimizer):
    """Lion (EvoLved Sign Momentum).

    Rule: ``p *= 1 - lr·wd``; ``p -= lr·sign(β1·m + (1-β1)·g)``; ``m = β2·m + (1-β2)·g``
    (``maximize`` negates ``g``). No eps.

    ``caution`` masks the sign update where it and ``g`` disagree; ``corrected_weight_decay``
    decays with ``lr²/peak_lr`` (factory 'lionc').

    Defaults: lr=1e-4, betas=(0.9, 0.99), weight_decay=0.
    """

    state_keys = frozenset({"exp_avg"})

    def __init__(self, params: Any, lr: float = 1e-4, betas: tuple[float, float] = (0.9, 0.99),
                 weight_decay: float = 0.0, caution: bool = False, corrected_weight_decay: bool = False,
                 maximize: bool = False, foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, caution=caution,
                        corrected_weight_decay=corrected_weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["exp_avg"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        m = state["exp_avg"]
        if wd != 0:
            p.mul_(1.0 - decay_lr(group) * wd)
        update = torch.lerp(m, grad, 1.0 - beta1, out=self._scratch(m)).sign_()
        if group.get("caution"):
            cautious_(update, grad)
        p.add_(update, alpha=-lr)
        m.lerp_(grad, 1.0 - beta2)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        ms = [s["exp_avg"] for s in states]
        if wd != 0:
            torch._foreach_mul_(params, 1.0 - decay_lr(group) * wd)
        updates = torch._foreach_lerp(ms, grads, 1.0 - beta1)
        torch._foreach_sign_(updates)
        if group.get("caution"):
            for u, g in zip(updates, grads):
                cautious_(u, g)
        torch._foreach_add_(params, updates, alpha=-lr)
        torch._foreach_lerp_(ms, grads, 1.0 - beta2)
