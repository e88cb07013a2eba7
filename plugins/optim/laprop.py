"""LaProp: momentum applied to the RMSprop-normalized gradient (Ziyin et al., 2020)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, cautious, check_betas, check_range, decay_lr

__all__ = ["LaProp"]


class LaProp(PimmOptimizer):
    """LaProp ("Separating Momentum and Adaptivity in Adam").

    Rule (per parameter; ``lr_avg`` and ``bc2`` start at 0): ``v = β2·v + (1-β2)·g²``;
    ``lr_avg = β1·lr_avg + (1-β1)·lr``; ``bc2 = β2·bc2 + (1-β2)`` (= 1-β2^t);
    ``m = β1·m + (1-β1)·lr·g/(sqrt(v/bc2) + eps)`` — the learning rate lives inside the momentum;
    ``p -= (lr/lr_avg)·m`` (the bias correction of an lr-weighted average; ``caution`` masks ``m``
    where it and ``g`` disagree in sign); then decoupled decay ``p *= 1 - lr·wd`` (``lr²/peak_lr``
    with ``corrected_weight_decay``).

    Defaults: lr=4e-4, betas=(0.9, 0.999), eps=1e-15, weight_decay=0.
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq", "lr_avg", "bias_correction2"})

    def __init__(self, params: Any, lr: float = 4e-4, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-15, weight_decay: float = 0.0, caution: bool = False,
                 corrected_weight_decay: bool = False, foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, caution=caution,
                        corrected_weight_decay=corrected_weight_decay, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
        state["lr_avg"] = 0.0
        state["bias_correction2"] = 0.0

    @staticmethod
    def _advance(group: dict[str, Any], state: dict[str, Any]) -> tuple[float, float]:
        """Advance the scalar averages; return (step size lr/lr_avg, sqrt(bc2))."""
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        state["step"] += 1
        state["lr_avg"] = state["lr_avg"] * beta1 + (1.0 - beta1) * lr
        state["bias_correction2"] = state["bias_correction2"] * beta2 + (1.0 - beta2)
        return lr / state["lr_avg"], math.sqrt(state["bias_correction2"])

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        step_size, bc2_sqrt = self._advance(group, state)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        denom = v.sqrt().div_(bc2_sqrt).add_(group["eps"])
        m.mul_(beta1).addcdiv_(grad, denom, value=lr * (1.0 - beta1))
        p.add_(cautious(m, grad) if group["caution"] else m, alpha=-step_size)
        if wd != 0:
            p.mul_(1.0 - decay_lr(group) * wd)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        scalars = [self._advance(group, s) for s in states]
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, grads, grads, value=1.0 - beta2)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, [b for _, b in scalars])
        torch._foreach_add_(denom, group["eps"])
        torch._foreach_mul_(ms, beta1)
        torch._foreach_addcdiv_(ms, grads, denom, value=lr * (1.0 - beta1))
        steps = [cautious(m, g) for m, g in zip(ms, grads)] if group["caution"] else ms
        torch._foreach_add_(params, torch._foreach_mul(steps, [-s for s, _ in scalars]))
        if wd != 0:
            torch._foreach_mul_(params, 1.0 - decay_lr(group) * wd)
