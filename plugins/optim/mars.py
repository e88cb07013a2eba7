"""MARS: variance-reduced (STORM-style) gradient correction inside an AdamW or Lion step (Yuan et al., 2024)."""

from __future__ import annotations

import math
from typing import Any

import torch

from pimm.core.errors import OptionsError

from ._base import PimmOptimizer, cautious, check_betas, check_range

__all__ = ["Mars"]

_TYPES = ("adamw", "lion")


class Mars(PimmOptimizer):
    """MARS ("Unleashing the Power of Variance Reduction for Training Large Models").

    Rule for tensors with ndim ≥ 2 (and 1-D ones with ``optimize_1d``), per parameter step ``t``:
    ``c = g`` at t=1, else ``c = g + γ·β1/(1-β1)·(g - g_prev)``; ``c /= max(1, ||c||)``;
    ``m = β1·m + (1-β1)·c`` (``caution`` masks the ``m`` used below where it and ``g``
    disagree in sign). ``mars_type='adamw'``: ``v = β2·v + (1-β2)·c²``,
    ``u = (m/bc1)/(sqrt(v)/sqrt(bc2) + eps)``; ``'lion'``: ``u = sign(m)``. ``p -= lr·(u + wd·p)``.
    Other 1-D tensors take a plain AdamW-style step with ``betas_1d`` on ``g`` and learning rate
    ``lr·lr_1d_factor`` (coupled into the update as above). ``g_prev`` is this step's gradient.

    Defaults: lr=3e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0, gamma=0.025,
    mars_type='adamw', optimize_1d=False, lr_1d_factor=1.0, betas_1d=betas.
    """

    supports_multi_tensor = False
    supports_complex = False
    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq", "last_grad"})

    def __init__(self, params: Any, lr: float = 3e-3, betas: tuple[float, float] = (0.9, 0.99),
                 eps: float = 1e-8, weight_decay: float = 0.0, gamma: float = 0.025, mars_type: str = "adamw",
                 optimize_1d: bool = False, lr_1d_factor: float = 1.0,
                 betas_1d: tuple[float, float] | None = None, caution: bool = False) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        betas_1d = betas if betas_1d is None else check_betas(betas_1d)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        check_range("gamma", gamma)
        check_range("lr_1d_factor", lr_1d_factor)
        if mars_type not in _TYPES:
            raise OptionsError(f"invalid mars_type {mars_type!r}: choose one of {list(_TYPES)}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, gamma=gamma,
                        mars_type=mars_type, optimize_1d=optimize_1d, lr_1d_factor=lr_1d_factor,
                        betas_1d=betas_1d, caution=caution)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
        state["last_grad"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        state["step"] += 1
        t = state["step"]
        m, v, last = state["exp_avg"], state["exp_avg_sq"], state["last_grad"]
        wd, eps = group["weight_decay"], group["eps"]
        if grad.dim() >= 2 or group["optimize_1d"]:
            beta1, beta2 = group["betas"]
            lr = group["lr"]
            if t == 1:
                c = grad.clone()
            else:
                c = torch.sub(grad, last).mul_(group["gamma"] * beta1 / (1.0 - beta1)).add_(grad)
            c.div_(torch.linalg.vector_norm(c).clamp_(min=1.0))
            m.lerp_(c, 1.0 - beta1)
            step = cautious(m, grad) if group["caution"] else m
            if group["mars_type"] == "adamw":
                v.mul_(beta2).addcmul_(c, c, value=1.0 - beta2)
                denom = v.sqrt().div_(math.sqrt(1.0 - beta2**t)).add_(eps)
                update = torch.div(step, denom, out=denom).div_(1.0 - beta1**t)
            else:
                update = step.sign()
        else:
            beta1, beta2 = group["betas_1d"]
            lr = group["lr"] * group["lr_1d_factor"]
            m.lerp_(grad, 1.0 - beta1)
            v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
            denom = v.sqrt().div_(math.sqrt(1.0 - beta2**t)).add_(eps)
            step = cautious(m, grad) if group["caution"] else m
            update = torch.div(step, denom, out=denom).div_(1.0 - beta1**t)
        if wd != 0:
            update.add_(p, alpha=wd)
        p.add_(update, alpha=-lr)
        last.copy_(grad)
