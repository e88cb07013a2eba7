"""Nadam: pimm's own NAdam with Dozat's momentum schedule (timm's legacy Nadam rule)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, check_betas, check_range

__all__ = ["Nadam"]


class Nadam(PimmOptimizer):
    """Nadam (Dozat, 2016) with the Keras momentum schedule.

    Rule: coupled weight decay ``g += wd·p``; ``μt = β1·(1 - 0.5·0.96^(t·ψ))`` and ``μt+1``
    likewise (ψ = ``schedule_decay``); ``M_t = M_{t-1}·μt`` (``M_0 = 1``); Adam moments ``m``,
    ``v``; ``denom = sqrt(v)/sqrt(bc2) + eps``; ``p -= lr·(1-μt)/(1-M_t)·g/denom``;
    ``p -= lr·μt+1/(1 - M_t·μt+1)·m/denom``. The factory name 'nadam' builds
    ``torch.optim.NAdam`` (the same rule); this class is 'nadamlegacy'.

    Defaults: lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, schedule_decay=4e-3.
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq", "m_schedule"})

    supports_multi_tensor = False

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, schedule_decay: float = 4e-3) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, schedule_decay=schedule_decay)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["m_schedule"] = 1.0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd, psi = group["lr"], group["weight_decay"], group["schedule_decay"]
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        mu_t = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        schedule = state["m_schedule"] * mu_t
        schedule_next = schedule * mu_next
        state["m_schedule"] = schedule
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1.0 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        denom = v.sqrt().div_(math.sqrt(1.0 - beta2**t)).add_(group["eps"])
        p.addcdiv_(grad, denom, value=-lr * (1.0 - mu_t) / (1.0 - schedule))
        p.addcdiv_(m, denom, value=-lr * mu_next / (1.0 - schedule_next))
