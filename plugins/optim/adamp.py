"""AdamP: Adam whose update loses its radial component on scale-invariant weights."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, cautious_, check_betas, check_range
from ._projection import project

__all__ = ["AdamP"]


class AdamP(PimmOptimizer):
    """AdamP (Heo et al., 2021).

    Rule: Adam moments ``m = β1·m + (1-β1)·g``, ``v = β2·v + (1-β2)·g²``;
    ``denom = sqrt(v)/sqrt(bc2) + eps``; ``d = m/denom`` (``nesterov``: ``(β1·m + (1-β1)·g)/denom``).
    For tensors with ndim > 1, the channel view then the layer view is tried: if every row has
    ``|cos(g, p)| < delta/sqrt(row_len)``, ``d`` loses its component along ``p/(||p_row|| + eps)``
    and the weight decay is scaled by ``wd_ratio``. ``wd > 0``: ``p *= 1 - lr·wd·wd_scale``
    (decoupled). ``p -= (lr/bc1)·d``.

    Defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, delta=0.1, wd_ratio=0.1,
    nesterov=False (the 'adamp' factory name uses wd_ratio=0.01, nesterov=True).
    ``caution``: the spherical cautious update of :func:`project` (1-D tensors: a plain sign mask).
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq"})
    supports_complex = False  # the projection works on rows of the weight

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, delta: float = 0.1,
                 wd_ratio: float = 0.1, nesterov: bool = False, caution: bool = False,
                 foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, delta=delta,
                        wd_ratio=wd_ratio, nesterov=nesterov, caution=caution, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)

    def _finish(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                perturb: torch.Tensor, divisor: float) -> None:
        """Project ``perturb`` (ndim > 1), decay, then ``p -= (lr/divisor)·perturb``."""
        lr, wd = group["lr"], group["weight_decay"]
        wd_scale = 1.0
        caution = bool(group.get("caution"))
        if p.dim() > 1:
            wd_scale = project(p, grad, perturb, group["delta"], group["wd_ratio"], group["eps"], caution)
        elif caution:
            cautious_(perturb, grad)
        if wd > 0:
            p.mul_(1.0 - lr * wd * wd_scale)
        p.add_(perturb, alpha=-lr / divisor)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1.0 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        # m/(sqrt(v)/sqrt(bc2) + eps) = sqrt(bc2)·m/(sqrt(v) + eps·sqrt(bc2)); the projection and the
        # cautious mask are linear in the update, so the factor moves into the final step (one pass fewer)
        bc2_sqrt = math.sqrt(bc2)
        denom = torch.sqrt(v, out=self._scratch(v)).add_(group["eps"] * bc2_sqrt)
        if group["nesterov"]:
            perturb = torch.lerp(m, grad, 1.0 - beta1, out=self._scratch(m, 1))
            perturb = torch.div(perturb, denom, out=perturb)
        else:
            perturb = torch.div(m, denom, out=denom)
        self._finish(group, p, grad, perturb, bc1 / bc2_sqrt)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        for s in states:
            s["step"] += 1
        bc1s = [1.0 - beta1 ** s["step"] for s in states]
        bc2s = [math.sqrt(1.0 - beta2 ** s["step"]) for s in states]
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        torch._foreach_lerp_(ms, grads, 1.0 - beta1)
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, grads, grads, value=1.0 - beta2)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, bc2s)
        torch._foreach_add_(denom, group["eps"])
        if group["nesterov"]:
            perturbs = torch._foreach_mul(ms, beta1)
            torch._foreach_add_(perturbs, grads, alpha=1.0 - beta1)
            torch._foreach_div_(perturbs, denom)
        else:
            perturbs = torch._foreach_div(ms, denom)
        for p, g, d, bc1 in zip(params, grads, perturbs, bc1s):
            self._finish(group, p, g, d, bc1)
