"""AdamW: pimm's own Adam with decoupled weight decay (the rule timm's legacy AdamW implements)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, cautious, check_betas, check_range, decay_lr

__all__ = ["AdamW"]


class AdamW(PimmOptimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Rule: ``p *= 1 - lr·wd``; ``m = β1·m + (1-β1)·g``; ``v = β2·v + (1-β2)·g²`` (``amsgrad``:
    use ``v̂ = max(v̂, v)``); ``p -= (lr/bc1)·m/(sqrt(v)/sqrt(bc2) + eps)``.
    Numerically the same rule as ``torch.optim.AdamW`` (which the factory name 'adamw' builds);
    this class is the one importable from ``pimm.plugins.optim.optimizers`` (factory name
    'adamwlegacy').

    ``caution`` masks the update where ``m`` and ``g`` disagree in sign (see :func:`cautious`);
    ``corrected_weight_decay`` decays with ``lr²/peak_lr`` instead of ``lr`` (factory 'adamc').

    Defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False.
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 caution: bool = False, corrected_weight_decay: bool = False,
                 foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        caution=caution, corrected_weight_decay=corrected_weight_decay, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        state["step"] += 1
        t = state["step"]
        bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
        if wd != 0:
            p.mul_(1.0 - decay_lr(group) * wd)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1.0 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        if group["amsgrad"]:
            v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = v.sqrt().div_(math.sqrt(bc2)).add_(group["eps"])
        if group.get("caution"):
            m = cautious(m, grad)
        p.addcdiv_(m, denom, value=-lr / bc1)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
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
        if group["amsgrad"]:
            maxes = [s["max_exp_avg_sq"] for s in states]
            torch._foreach_maximum_(maxes, vs)
            vs = maxes
        denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, bc2s)
        torch._foreach_add_(denom, group["eps"])
        if group.get("caution"):
            ms = [cautious(m, g) for m, g in zip(ms, grads)]
        torch._foreach_addcdiv_(params, ms, denom, steps)
