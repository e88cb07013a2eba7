"""ADOPT: Adam whose step normalizes the gradient by the PREVIOUS second moment (Taniguchi et al., 2024)."""

from __future__ import annotations

from typing import Any

import torch

from ._base import PimmOptimizer, cautious, check_betas, check_range, decay_lr

__all__ = ["Adopt"]


class Adopt(PimmOptimizer):
    """ADOPT ("Modified Adam can converge with any β2 with the optimal rate").

    Rule (per parameter step ``t``; ``maximize`` negates ``g``; coupled decay ``g += wd·p``
    unless ``decoupled``): at t=1 only ``v = g²`` (no parameter change). Afterwards, with
    ``decoupled``: ``p *= 1 - lr·wd`` (``lr²/peak_lr`` with ``corrected_weight_decay``);
    ``n = g / max(sqrt(v), eps)``, clipped to ``±(t-1)^clip_exp`` unless ``clip_exp`` is None;
    ``m = β1·m + (1-β1)·n``; ``p -= lr·m`` (``caution`` masks ``m`` where it and ``g`` disagree
    in sign); then ``v = β2·v + (1-β2)·g²`` — the second moment is updated AFTER the step, which
    is ADOPT's point.

    Defaults: lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, clip_exp=0.333, weight_decay=0.
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq"})

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.9999),
                 eps: float = 1e-6, clip_exp: float | None = 0.333, weight_decay: float = 0.0,
                 decoupled: bool = False, corrected_weight_decay: bool = False, caution: bool = False,
                 maximize: bool = False, foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("clip_exp", clip_exp, optional=True)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, clip_exp=clip_exp, weight_decay=weight_decay,
                        decoupled=decoupled, corrected_weight_decay=corrected_weight_decay, caution=caution,
                        maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        wd = group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if wd != 0 and not group["decoupled"]:
            grad = grad.add(p, alpha=wd)
        state["step"] += 1
        t = state["step"]
        v = state["exp_avg_sq"]
        if t == 1:
            v.addcmul_(grad, grad)
            return
        if wd != 0 and group["decoupled"]:
            p.mul_(1.0 - decay_lr(group) * wd)
        normed = grad / v.sqrt().clamp_(min=group["eps"])
        if group["clip_exp"] is not None:
            bound = (t - 1) ** group["clip_exp"]
            normed.clamp_(-bound, bound)
        m = state["exp_avg"]
        m.lerp_(normed, 1.0 - beta1)
        p.add_(cautious(m, grad) if group["caution"] else m, alpha=-group["lr"])
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        wd = group["weight_decay"]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if wd != 0 and not group["decoupled"]:
            grads = torch._foreach_add(grads, params, alpha=wd)
        for s in states:
            s["step"] += 1
        first = [i for i, s in enumerate(states) if s["step"] == 1]
        if first:
            torch._foreach_addcmul_([states[i]["exp_avg_sq"] for i in first], [grads[i] for i in first],
                                    [grads[i] for i in first])
        rest = [i for i, s in enumerate(states) if s["step"] > 1]
        if not rest:
            return
        ps = [params[i] for i in rest]
        gs = [grads[i] for i in rest]
        ms = [states[i]["exp_avg"] for i in rest]
        vs = [states[i]["exp_avg_sq"] for i in rest]
        if wd != 0 and group["decoupled"]:
            torch._foreach_mul_(ps, 1.0 - decay_lr(group) * wd)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_clamp_min_(denom, group["eps"])
        normed = torch._foreach_div(gs, denom)
        if group["clip_exp"] is not None:
            for n, i in zip(normed, rest):
                bound = (states[i]["step"] - 1) ** group["clip_exp"]
                n.clamp_(-bound, bound)
        torch._foreach_lerp_(ms, normed, 1.0 - beta1)
        steps = [cautious(m, g) for m, g in zip(ms, gs)] if group["caution"] else ms
        torch._foreach_add_(ps, steps, alpha=-group["lr"])
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, gs, gs, value=1.0 - beta2)
