"""NAdamW: Adam with Nesterov momentum and decoupled weight decay (the MLCommons formulation)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, cautious_, check_betas, check_range, decay_lr

__all__ = ["NAdamW"]


class NAdamW(PimmOptimizer):
    """NAdamW.

    Rule: ``p *= 1 - lr·wd``; ``m = β1·m + (1-β1)·g``; ``v = β2·v + (1-β2)·g²``;
    ``p -= (lr/bc1)·(β1·m + (1-β1)·g)/(sqrt(v)/sqrt(bc2) + eps)`` (``maximize`` negates ``g``).

    ``caution`` masks the look-ahead numerator where it and ``g`` disagree in sign;
    ``corrected_weight_decay`` decays with ``lr²/peak_lr`` (factory 'nadamc').

    Defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2.
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq"})

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, caution: bool = False,
                 corrected_weight_decay: bool = False, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, caution=caution,
                        corrected_weight_decay=corrected_weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        t = state["step"]
        bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
        if wd != 0:
            p.mul_(1.0 - decay_lr(group) * wd)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1.0 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        ahead = torch.lerp(m, grad, 1.0 - beta1, out=self._scratch(m))
        if group.get("caution"):
            cautious_(ahead, grad)
        # x/(sqrt(v)/sqrt(bc2) + eps) = sqrt(bc2)·x/(sqrt(v) + eps·sqrt(bc2)): no pass for the division
        bc2_sqrt = math.sqrt(bc2)
        denom = torch.sqrt(v, out=self._scratch(v, 1)).add_(group["eps"] * bc2_sqrt)
        p.addcdiv_(ahead, denom, value=-lr * bc2_sqrt / bc1)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        for s in states:
            s["step"] += 1
        steps = [-lr / (1.0 - beta1 ** s["step"]) for s in states]
        bc2s = [math.sqrt(1.0 - beta2 ** s["step"]) for s in states]
        if wd != 0:
            torch._foreach_mul_(params, 1.0 - decay_lr(group) * wd)
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        torch._foreach_lerp_(ms, grads, 1.0 - beta1)
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, grads, grads, value=1.0 - beta2)
        ahead = torch._foreach_lerp(ms, grads, 1.0 - beta1)
        if group.get("caution"):
            for a, g in zip(ahead, grads):
                cautious_(a, g)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, bc2s)
        torch._foreach_add_(denom, group["eps"])
        torch._foreach_addcdiv_(params, ahead, denom, steps)
