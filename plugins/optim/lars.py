"""Lars: SGD whose step is scaled per tensor by a trust ratio (LARS / LARC)."""

from __future__ import annotations

from typing import Any

import torch

from ._base import PimmOptimizer, check_range, momentum_

__all__ = ["Lars"]


def _trust(p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> torch.Tensor:
    wd, eps = group["weight_decay"], group["eps"]
    w_norm = torch.linalg.vector_norm(p)
    g_norm = torch.linalg.vector_norm(grad)
    ratio = group["trust_coeff"] * w_norm / (g_norm + w_norm * wd + eps)
    ratio = torch.where((w_norm > 0) & (g_norm > 0), ratio, torch.ones_like(ratio))
    if group["trust_clip"]:
        ratio = torch.clamp(ratio / group["lr"], max=1.0)
    return ratio.to(p.dtype)


class Lars(PimmOptimizer):
    """LARS (You et al., 2017), with LARC's clipping as ``trust_clip``.

    Rule: when wd≠0 or ``always_adapt``: ``r = trust_coeff·||p|| / (||g|| + wd·||p|| + eps)``
    (1 when ||p|| or ||g|| is 0; ``trust_clip``: ``r = min(r/lr, 1)``) and ``g = (g + wd·p)·r``
    — weight decay is applied only in that branch. Then momentum SGD: ``buf = g`` on the first
    step, afterwards ``buf = μ·buf + (1-dampening)·g``; ``g = g + μ·buf`` (nesterov) or ``buf``;
    ``p -= lr·g``.

    Defaults: lr=1.0, momentum=0 (the factory passes 0.9), trust_coeff=1e-3, eps=1e-8.
    """

    state_keys = frozenset({"momentum_buffer"})

    def __init__(self, params: Any, lr: float = 1.0, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, trust_coeff: float = 1e-3,
                 eps: float = 1e-8, trust_clip: bool = False, always_adapt: bool = False,
                 foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        check_range("momentum", momentum)
        check_range("weight_decay", weight_decay)
        check_range("eps", eps)
        if nesterov and (momentum <= 0 or dampening != 0):
            from pimm.core.errors import OptionsError

            raise OptionsError("nesterov momentum needs momentum > 0 and dampening == 0")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, trust_coeff=trust_coeff, eps=eps, trust_clip=trust_clip,
                        always_adapt=always_adapt, foreach=foreach)
        super().__init__(params, defaults)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        wd, momentum, lr = group["weight_decay"], group["momentum"], group["lr"]
        if wd != 0 or group["always_adapt"]:
            if p.device.type == "cpu":
                w = float(torch.linalg.vector_norm(p))
                g = float(torch.linalg.vector_norm(grad))
                ratio: float | torch.Tensor = 1.0
                if w > 0 and g > 0:
                    ratio = group["trust_coeff"] * w / (g + w * wd + group["eps"])
                if group["trust_clip"]:
                    ratio = min(ratio / lr, 1.0)
            else:
                ratio = _trust(p, grad, group)
            if momentum != 0 and isinstance(ratio, float):
                self._adapted_momentum(group, p, grad, state, ratio)
                return
            grad = torch.add(grad, p, alpha=wd).mul_(ratio)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = torch.clone(grad).detach()
            else:
                momentum_(buf, grad, momentum, group["dampening"])
            if group["nesterov"]:
                p.add_(grad, alpha=-lr).add_(buf, alpha=-lr * momentum)
                return
            grad = buf
        p.add_(grad, alpha=-lr)

    @staticmethod
    def _adapted_momentum(group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                          state: dict[str, Any], ratio: float) -> None:
        """Momentum step with ``g' = r·(g + wd·p)`` folded into the buffer update (no temporary)."""
        wd, momentum, lr = group["weight_decay"], group["momentum"], group["lr"]
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = torch.add(grad, p, alpha=wd).mul_(ratio)
        else:
            c = (1.0 - group["dampening"]) * ratio
            buf.mul_(momentum).add_(grad, alpha=c).add_(p, alpha=c * wd)
        if group["nesterov"]:  # p -= lr·(g' + μ·buf)
            p.mul_(1.0 - lr * ratio * wd).add_(grad, alpha=-lr * ratio).add_(buf, alpha=-lr * momentum)
        else:
            p.add_(buf, alpha=-lr)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        wd, momentum, lr = group["weight_decay"], group["momentum"], group["lr"]
        if wd != 0 or group["always_adapt"]:
            ratios = [_trust(p, g, group) for p, g in zip(params, grads)]
            grads = torch._foreach_add(grads, params, alpha=wd)
            torch._foreach_mul_(grads, ratios)
        if momentum != 0:
            fresh = [i for i, s in enumerate(states) if "momentum_buffer" not in s]
            old = [i for i, s in enumerate(states) if "momentum_buffer" in s]
            if old:
                bufs = [states[i]["momentum_buffer"] for i in old]
                torch._foreach_mul_(bufs, momentum)
                torch._foreach_add_(bufs, [grads[i] for i in old], alpha=1.0 - group["dampening"])
            for i in fresh:
                states[i]["momentum_buffer"] = torch.clone(grads[i]).detach()
            bufs = [s["momentum_buffer"] for s in states]
            grads = torch._foreach_add(grads, bufs, alpha=momentum) if group["nesterov"] else bufs
        torch._foreach_add_(params, grads, alpha=-lr)
