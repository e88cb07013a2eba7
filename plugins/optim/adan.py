"""Adan: adaptive Nesterov momentum with a gradient-difference term (Xie et al., 2022)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, cautious, check_betas, check_range

__all__ = ["Adan"]


class Adan(PimmOptimizer):
    """Adan.

    Rule (per-group step ``t``; ``g_prev`` is set to the current gradient at t=1, so Δ=0):
    ``Δ = g - g_prev``; ``m = β1·m + (1-β1)·g``; ``d = β2·d + (1-β2)·Δ``; ``u = g + β2·Δ``;
    ``n = β3·n + (1-β3)·u²``; ``denom = sqrt(n)/sqrt(1-β3^t) + eps``;
    ``step = (lr/bc1)·m/denom + (lr·β2/bc2)·d/denom``. ``no_prox``: ``p *= 1 - lr·wd`` then
    ``p -= step``; default: ``p -= step`` then ``p /= 1 + lr·wd``.

    ``caution`` masks ``m`` (in the update only) where it and ``g`` disagree in sign.

    Defaults: lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0, no_prox=False.
    """

    state_keys = frozenset({"exp_avg", "exp_avg_sq", "exp_avg_diff", "prev_grad"})

    def __init__(self, params: Any, lr: float = 1e-3,
                 betas: tuple[float, float, float] = (0.98, 0.92, 0.99), eps: float = 1e-8,
                 weight_decay: float = 0.0, no_prox: bool = False, caution: bool = False,
                 foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas, 3)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, no_prox=no_prox,
                        caution=caution, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
        state["exp_avg_diff"] = torch.zeros_like(p)

    def _begin_group(self, group: dict[str, Any]) -> None:
        group["step"] = group.get("step", 0) + 1

    @staticmethod
    def _prev(group: dict[str, Any], state: dict[str, Any], grad: torch.Tensor) -> torch.Tensor:
        if group["step"] == 1 or "prev_grad" not in state:
            state["prev_grad"] = grad.detach().clone()
        return state["prev_grad"]

    def _scalars(self, group: dict[str, Any]) -> tuple[float, float, float]:
        beta1, beta2, beta3 = group["betas"]
        t = group["step"]
        lr = group["lr"]
        return lr / (1.0 - beta1**t), lr * beta2 / (1.0 - beta2**t), math.sqrt(1.0 - beta3**t)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2, beta3 = group["betas"]
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        step_m, step_d, bc3_sqrt = self._scalars(group)
        m, n, d = state["exp_avg"], state["exp_avg_sq"], state["exp_avg_diff"]
        # the previous gradient's buffer is the work buffer (Δ, then u, then the denominator) and
        # takes the new gradient last: every pass but one runs in place, none allocates
        work = self._prev(group, state, grad)
        torch.sub(grad, work, out=work)  # Δ
        m.lerp_(grad, 1.0 - beta1)
        d.lerp_(work, 1.0 - beta2)
        torch.add(grad, work, alpha=beta2, out=work)  # u = g + β2·Δ
        n.mul_(beta3).addcmul_(work, work, value=1.0 - beta3)
        # x/(sqrt(n)/c + eps) = c·x/(sqrt(n) + eps·c) with c = sqrt(1 - β3^t)
        denom = torch.sqrt(n, out=work).add_(eps * bc3_sqrt)
        if group["no_prox"] and wd != 0:
            p.mul_(1.0 - lr * wd)
        p.addcdiv_(cautious(m, grad) if group.get("caution") else m, denom, value=-step_m * bc3_sqrt)
        p.addcdiv_(d, denom, value=-step_d * bc3_sqrt)
        if not group["no_prox"] and wd != 0:
            p.div_(1.0 + lr * wd)
        work.copy_(grad)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        beta1, beta2, beta3 = group["betas"]
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        step_m, step_d, bc3_sqrt = self._scalars(group)
        ms = [s["exp_avg"] for s in states]
        ns = [s["exp_avg_sq"] for s in states]
        ds = [s["exp_avg_diff"] for s in states]
        prevs = [self._prev(group, s, g) for s, g in zip(states, grads)]
        work = torch._foreach_sub(grads, prevs)
        torch._foreach_lerp_(ms, grads, 1.0 - beta1)
        torch._foreach_lerp_(ds, work, 1.0 - beta2)
        torch._foreach_mul_(work, beta2)
        torch._foreach_add_(work, grads)
        torch._foreach_mul_(ns, beta3)
        torch._foreach_addcmul_(ns, work, work, value=1.0 - beta3)
        torch._foreach_copy_(prevs, grads)
        denom = torch._foreach_sqrt(ns)
        torch._foreach_div_(denom, bc3_sqrt)
        torch._foreach_add_(denom, eps)
        if group["no_prox"] and wd != 0:
            torch._foreach_mul_(params, 1.0 - lr * wd)
        steps = [cautious(m, g) for m, g in zip(ms, grads)] if group.get("caution") else ms
        torch._foreach_addcdiv_(params, steps, denom, value=-step_m)
        torch._foreach_addcdiv_(params, ds, denom, value=-step_d)
        if not group["no_prox"] and wd != 0:
            torch._foreach_div_(params, 1.0 + lr * wd)
