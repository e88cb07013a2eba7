"""AdaBelief: Adam whose second moment tracks the gradient's deviation from its EMA."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, check_betas, check_range, copy_back, to_float32

__all__ = ["AdaBelief"]


def _rectified_step(beta2: float, t: int) -> float | None:
    """RAdam's variance-rectification factor for step ``t`` (None while the variance is intractable)."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    beta2_t = beta2**t
    rho_t = rho_inf - 2.0 * t * beta2_t / (1.0 - beta2_t)
    if rho_t < 5:
        return None
    return math.sqrt((1.0 - beta2_t) * (rho_t - 4) / (rho_inf - 4) * (rho_t - 2) / rho_t * rho_inf / (rho_inf - 2))


class AdaBelief(PimmOptimizer):
    """AdaBelief (Zhuang et al., 2020).

    Rule: weight decay is decoupled by default (``p *= 1 - lr·wd``; ``fixed_decay``: ``1 - wd``),
    else coupled (``g += wd·p``). ``m = β1·m + (1-β1)·g``; ``s = β2·s + (1-β2)·(g - m)²`` using
    the NEW ``m``, then ``s += eps`` (stored); ``amsgrad`` keeps ``ŝ = max(ŝ, s)``.
    Plain: ``p -= (lr/bc1)·m/(sqrt(s)/sqrt(bc2) + eps)``. With ``rectify`` (RAdam-style):
    while ρt ≥ 5, ``p -= lr·r_t/bc1 · m/(sqrt(s) + eps)``; before that ``p -= lr/bc1·m`` when
    ``degenerated_to_sgd`` else no update. fp16/bf16 parameters keep fp32 state.

    Defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=0, decoupled_decay=True,
    rectify=True (the factory's 'adabelief' passes rectify=False; 'radabelief' True).
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_var", "max_exp_avg_var"})

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16, weight_decay: float = 0.0, amsgrad: bool = False,
                 decoupled_decay: bool = True, fixed_decay: bool = False, rectify: bool = True,
                 degenerated_to_sgd: bool = True, foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        decoupled_decay=decoupled_decay, fixed_decay=fixed_decay, rectify=rectify,
                        degenerated_to_sgd=degenerated_to_sgd, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        ref = to_float32(p)
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(ref, dtype=ref.dtype)
        state["exp_avg_var"] = torch.zeros_like(ref, dtype=ref.dtype)
        if group["amsgrad"]:
            state["max_exp_avg_var"] = torch.zeros_like(ref, dtype=ref.dtype)

    def _decay(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        lr, wd = group["lr"], group["weight_decay"]
        if wd != 0:
            if group["decoupled_decay"]:
                p.mul_(1.0 - (wd if group["fixed_decay"] else lr * wd))
            else:
                grad = grad.add(p, alpha=wd)
        return grad

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, eps = group["lr"], group["eps"]
        p32 = to_float32(p)
        grad = self._decay(group, p32, to_float32(grad))
        state["step"] += 1
        t = state["step"]
        bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
        m, s = state["exp_avg"], state["exp_avg_var"]
        m.lerp_(grad, 1.0 - beta1)
        work = torch.sub(grad, m, out=self._scratch(m))
        # s = β2·s + (1-β2)·(g-m)² + eps = lerp(s, (g-m)² + eps/(1-β2), 1-β2): two passes, not three
        torch.addcmul(self._constant(eps / (1.0 - beta2), work), work, work, out=work)
        s.lerp_(work, 1.0 - beta2)
        if group["amsgrad"]:
            s = torch.maximum(state["max_exp_avg_var"], s, out=state["max_exp_avg_var"])
        if not group["rectify"]:
            # m/(sqrt(s)/sqrt(bc2) + eps) = sqrt(bc2)·m/(sqrt(s) + eps·sqrt(bc2))
            bc2_sqrt = math.sqrt(bc2)
            denom = torch.sqrt(s, out=work).add_(eps * bc2_sqrt)
            p32.addcdiv_(m, denom, value=-lr * bc2_sqrt / bc1)
        else:
            r = _rectified_step(beta2, t)
            if r is not None:
                denom = torch.sqrt(s, out=work).add_(eps)
                p32.addcdiv_(m, denom, value=-lr * r / bc1)
            elif group["degenerated_to_sgd"]:
                p32.add_(m, alpha=-lr / bc1)
        copy_back(p, p32)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        steps = {s["step"] for s in states}
        if (params[0].dtype not in (torch.float32, torch.float64) or len(steps) != 1
                or group["amsgrad"]):
            return super()._multi(group, params, grads, states, ctx)
        beta1, beta2 = group["betas"]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        if wd != 0:
            if group["decoupled_decay"]:
                torch._foreach_mul_(params, 1.0 - (wd if group["fixed_decay"] else lr * wd))
            else:
                grads = torch._foreach_add(grads, params, alpha=wd)
        for s in states:
            s["step"] += 1
        t = states[0]["step"]
        bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_var"] for s in states]
        torch._foreach_lerp_(ms, grads, 1.0 - beta1)
        work = torch._foreach_sub(grads, ms)
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, work, work, value=1.0 - beta2)
        torch._foreach_add_(vs, eps)
        if not group["rectify"]:
            denom = torch._foreach_sqrt(vs)
            torch._foreach_div_(denom, math.sqrt(bc2))
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(params, ms, denom, value=-lr / bc1)
        else:
            r = _rectified_step(beta2, t)
            if r is not None:
                denom = torch._foreach_sqrt(vs)
                torch._foreach_add_(denom, eps)
                torch._foreach_addcdiv_(params, ms, denom, value=-lr * r / bc1)
            elif group["degenerated_to_sgd"]:
                torch._foreach_add_(params, ms, alpha=-lr / bc1)
