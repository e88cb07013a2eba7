"""Lamb: layer-wise adaptive moments (Adam moments scaled by a per-tensor trust ratio)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, cautious_, check_betas, check_range, decay_lr

__all__ = ["Lamb"]


def _trust_ratio(w_norm: torch.Tensor, u_norm: torch.Tensor, clip: bool) -> torch.Tensor:
    ratio = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch.ones_like(w_norm))
    return ratio.clamp_(max=1.0) if clip else ratio


class Lamb(PimmOptimizer):
    """Lamb (You et al., 2019) with global gradient clipping.

    Rule: G = the L2 norm of every gradient of every group; ``clip = max(G/max_grad_norm, 1)``
    and ``g ← g/clip`` (``p.grad`` itself is untouched; ``max_grad_norm=None`` disables).
    Per group step ``t``; ``m = β1·m + β3·g`` (β3 = 1-β1 with ``grad_averaging``, else 1);
    ``v = β2·v + (1-β2)·g²``; ``u = (m/bc1) / (sqrt(v)/sqrt(bc2) + eps)`` (no bias correction
    when ``bias_correction=False``). Weight decay: ``decoupled_decay`` → ``p *= 1 - lr·wd``, else
    ``u += wd·p``. The trust ratio ``r = ||p||/||u||`` (1 when either is 0; ``trust_clip`` caps it
    at 1) scales ``u`` only when wd≠0 or ``always_adapt``. ``p -= lr·u``.

    ``caution`` masks ``u`` (before weight decay) where it and ``g`` disagree in sign;
    ``corrected_weight_decay`` (with ``decoupled_decay``) decays with ``lr²/peak_lr``.

    Defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01, max_grad_norm=1.0.
    """

    state_keys = frozenset({"exp_avg", "exp_avg_sq"})

    def __init__(self, params: Any, lr: float = 1e-3, bias_correction: bool = True,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-6,
                 weight_decay: float = 0.01, grad_averaging: bool = True,
                 max_grad_norm: float | None = 1.0, trust_clip: bool = False,
                 always_adapt: bool = False, caution: bool = False, decoupled_decay: bool = False,
                 corrected_weight_decay: bool = False, foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        check_range("max_grad_norm", max_grad_norm, low_open=True, optional=True)
        defaults = dict(lr=lr, bias_correction=bias_correction, betas=betas, eps=eps,
                        weight_decay=weight_decay, grad_averaging=grad_averaging,
                        max_grad_norm=max_grad_norm, trust_clip=trust_clip, always_adapt=always_adapt,
                        caution=caution, decoupled_decay=decoupled_decay,
                        corrected_weight_decay=corrected_weight_decay, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)

    def _prepare(self) -> Any:
        max_norm = self.defaults["max_grad_norm"]
        if max_norm is None:
            return None
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        if not grads:
            return None
        by_device: dict[torch.device, list[torch.Tensor]] = {}
        for g in grads:
            by_device.setdefault(g.device, []).append(g)
        device = grads[0].device
        sq = torch.zeros((), device=device, dtype=torch.float32)
        for dev_grads in by_device.values():
            norms = torch._foreach_norm(dev_grads)
            sq = sq + torch.stack([n.float() for n in norms]).square().sum().to(device)
        clip = (sq.sqrt() / max_norm).clamp_(min=1.0)
        return clip.item() if device.type == "cpu" else clip

    def _begin_group(self, group: dict[str, Any]) -> None:
        group["step"] = group.get("step", 0) + 1

    def _scalars(self, group: dict[str, Any]) -> tuple[float, float, float, float]:
        beta1, beta2 = group["betas"]
        t = group["step"]
        if group["bias_correction"]:
            bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
        else:
            bc1 = bc2 = 1.0
        beta3 = 1.0 - beta1 if group["grad_averaging"] else 1.0
        return bc1, math.sqrt(bc2), beta3, beta2

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        bc1, bc2_sqrt, beta3, beta2 = self._scalars(group)
        beta1 = group["betas"][0]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        if isinstance(ctx, torch.Tensor):
            grad = grad / ctx
            scale = 1.0
        else:
            scale = 1.0 / ctx if ctx is not None else 1.0
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(beta1).add_(grad, alpha=beta3 * scale)
        v.mul_(beta2).addcmul_(grad, grad, value=(1.0 - beta2) * scale * scale)
        # u = (m/bc1)/(sqrt(v)/sqrt(bc2) + eps) = k·m/(sqrt(v) + eps·sqrt(bc2)) with k = sqrt(bc2)/bc1;
        # the trust ratio is scale free, so k only matters when no ratio is applied.
        k = bc2_sqrt / bc1
        update = torch.sqrt(v, out=self._scratch(v)).add_(eps * bc2_sqrt)
        coupled = wd != 0 and not group["decoupled_decay"]
        if coupled and not group.get("caution"):
            # m/denom + c·p = c·(p + m/(c·denom)), c = wd/k: one addcdiv pass holds update/c, and
            # c returns in the update's norm and in the step below (the rule is unchanged)
            c = wd / k
            torch.addcdiv(p, m, update, value=1.0 / c, out=update)
            k = k * c
        else:
            torch.div(m, update, out=update)
            if group.get("caution"):
                cautious_(update, grad)
            if wd != 0:
                if group["decoupled_decay"]:
                    p.mul_(1.0 - decay_lr(group) * wd)
                else:
                    update.add_(p, alpha=wd / k)
        if wd != 0 or group["always_adapt"]:
            w_norm = torch.linalg.vector_norm(p)
            u_norm = torch.linalg.vector_norm(update)
            if p.device.type == "cpu":
                w, u = float(w_norm), float(u_norm) * k
                ratio = w / u if w > 0 and u > 0 else 1.0
                if group["trust_clip"]:
                    ratio = min(ratio, 1.0)
                p.add_(update, alpha=-lr * ratio * k)
            else:
                ratio = _trust_ratio(w_norm, u_norm * k, group["trust_clip"])
                p.addcmul_(update, (ratio * k).to(p.dtype), value=-lr)
        else:
            p.add_(update, alpha=-lr * k)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        bc1, bc2_sqrt, beta3, beta2 = self._scalars(group)
        beta1 = group["betas"][0]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        if isinstance(ctx, torch.Tensor):
            grads = torch._foreach_div(grads, ctx)
        elif ctx is not None and ctx != 1.0:
            grads = torch._foreach_div(grads, ctx)
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        torch._foreach_mul_(ms, beta1)
        torch._foreach_add_(ms, grads, alpha=beta3)
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, grads, grads, value=1.0 - beta2)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_mul_(denom, bc1 / bc2_sqrt)
        torch._foreach_add_(denom, bc1 * eps)
        updates = torch._foreach_div(ms, denom)
        if group.get("caution"):
            for u, g in zip(updates, grads):
                cautious_(u, g)
        if wd != 0:
            if group["decoupled_decay"]:
                torch._foreach_mul_(params, 1.0 - decay_lr(group) * wd)
            else:
                torch._foreach_add_(updates, params, alpha=wd)
        if wd != 0 or group["always_adapt"]:
            w_norms = torch._foreach_norm(params)
            u_norms = torch._foreach_norm(updates)
            ratios = [_trust_ratio(w, u, group["trust_clip"]).to(p.dtype)
                      for w, u, p in zip(w_norms, u_norms, params)]
            torch._foreach_mul_(updates, ratios)
        torch._foreach_add_(params, updates, alpha=-lr)
