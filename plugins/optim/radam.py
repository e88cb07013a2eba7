"""RAdam: pimm's own rectified Adam (timm's legacy RAdam rule, fp32 math)."""

from __future__ import annotations

from typing import Any

import torch

from ._base import PimmOptimizer, check_betas, check_range, copy_back, to_float32
from .adabelief import _rectified_step

__all__ = ["RAdam"]


class RAdam(PimmOptimizer):
    """Rectified Adam (Liu et al., 2020).

    Rule (math in fp32): ``v = β2·v + (1-β2)·g²``; ``m = β1·m + (1-β1)·g``;
    ``ρ∞ = 2/(1-β2) - 1``, ``ρt = ρ∞ - 2tβ2^t/(1-β2^t)``; weight decay first as ``p -= lr·wd·p``;
    ρt ≥ 5: ``p -= lr·r_t/bc1 · m/(sqrt(v) + eps)`` with
    ``r_t = sqrt((1-β2^t)(ρt-4)(ρt-2)ρ∞/((ρ∞-4)(ρ∞-2)ρt))``; else ``p -= lr/bc1·m``.
    The factory name 'radam' builds ``torch.optim.RAdam``; this class is 'radamlegacy'.

    Defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq"})

    supports_multi_tensor = False

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        ref = to_float32(p)
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(ref)
        state["exp_avg_sq"] = torch.zeros_like(ref)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        p32, grad = to_float32(p), to_float32(grad)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        m.lerp_(grad, 1.0 - beta1)
        bc1 = 1.0 - beta1**t
        r = _rectified_step(beta2, t)
        if wd != 0:
            p32.mul_(1.0 - wd * lr)
        if r is not None:
            p32.addcdiv_(m, v.sqrt().add_(group["eps"]), value=-lr * r / bc1)
        else:
            p32.add_(m, alpha=-lr / bc1)
        copy_back(p, p32)
