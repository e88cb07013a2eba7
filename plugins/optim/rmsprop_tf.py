"""RMSpropTF: RMSprop as TensorFlow defines it (eps inside the sqrt, square average starting at one)."""

from __future__ import annotations

from typing import Any

import torch

from ._base import PimmOptimizer, cautious, check_range, decay_lr

__all__ = ["RMSpropTF"]


class RMSpropTF(PimmOptimizer):
    """TensorFlow-style RMSprop.

    Rule (per parameter ``p`` with gradient ``g``; ``v`` starts at ONES, ``buf`` and ``ḡ`` at zero):
    weight decay is coupled (``g += wd·p``) or, with ``decoupled_decay``, ``p *= 1 - lr·wd``;
    ``v = α·v + (1-α)·g²``; ``denom = sqrt(v + eps)`` (eps INSIDE the sqrt), or with ``centered``
    ``ḡ = α·ḡ + (1-α)·g`` and ``denom = sqrt(v - ḡ² + eps)``. With momentum ``μ > 0``:
    ``buf = μ·buf + lr·g/denom; p -= buf`` (``lr_in_momentum=False``: ``buf = μ·buf + g/denom;
    p -= lr·buf``); without: ``p -= lr·g/denom``.

    ``caution`` (with momentum) masks the momentum step where it and ``g`` disagree in sign;
    ``corrected_weight_decay`` (with ``decoupled_decay``) decays with ``lr²/peak_lr``.

    Defaults: lr=1e-2, alpha=0.9, eps=1e-10, weight_decay=0, momentum=0 (the factory passes 0.9).
    """

    state_keys = frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"})

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.9, eps: float = 1e-10,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 decoupled_decay: bool = False, corrected_weight_decay: bool = False,
                 lr_in_momentum: bool = True, caution: bool = False, foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        check_range("alpha", alpha, 0.0, 1.0)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        check_range("momentum", momentum)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, decoupled_decay=decoupled_decay,
                        corrected_weight_decay=corrected_weight_decay, lr_in_momentum=lr_in_momentum,
                        caution=caution, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["square_avg"] = torch.ones_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = torch.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        momentum = group["momentum"]
        state["step"] += 1
        if wd != 0:
            if group["decoupled_decay"]:
                p.mul_(1.0 - decay_lr(group) * wd)
            else:
                grad = grad.add(p, alpha=wd)
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1.0 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1.0 - alpha)
            denom = square_avg.addcmul(grad_avg, grad_avg, value=-1.0).add_(eps).sqrt_()
        else:
            denom = torch.add(square_avg, eps, out=self._scratch(square_avg)).sqrt_()
        if momentum > 0:
            buf = state["momentum_buffer"]
            if group["lr_in_momentum"]:
                buf.mul_(momentum).addcdiv_(grad, denom, value=lr)
                p.sub_(cautious(buf, grad) if group.get("caution") else buf)
            else:
                buf.mul_(momentum).addcdiv_(grad, denom)
                p.add_(cautious(buf, grad) if group.get("caution") else buf, alpha=-lr)
        else:
            p.addcdiv_(grad, denom, value=-lr)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        momentum = group["momentum"]
        for s in states:
            s["step"] += 1
        if wd != 0:
            if group["decoupled_decay"]:
                torch._foreach_mul_(params, 1.0 - decay_lr(group) * wd)
            else:
                grads = torch._foreach_add(grads, params, alpha=wd)
        square_avgs = [s["square_avg"] for s in states]
        torch._foreach_mul_(square_avgs, alpha)
        torch._foreach_addcmul_(square_avgs, grads, grads, value=1.0 - alpha)
        if group["centered"]:
            grad_avgs = [s["grad_avg"] for s in states]
            torch._foreach_lerp_(grad_avgs, grads, 1.0 - alpha)
            denom = torch._foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1.0)
            torch._foreach_add_(denom, eps)
        else:
            denom = torch._foreach_add(square_avgs, eps)
        torch._foreach_sqrt_(denom)
        if momentum > 0:
            bufs = [s["momentum_buffer"] for s in states]
            torch._foreach_mul_(bufs, momentum)
            if group["lr_in_momentum"]:
                torch._foreach_addcdiv_(bufs, grads, denom, value=lr)
            else:
                torch._foreach_addcdiv_(bufs, grads, denom)
            steps = [cautious(b, g) for b, g in zip(bufs, grads)] if group.get("caution") else bufs
            if group["lr_in_momentum"]:
                torch._foreach_sub_(params, steps)
            else:
                torch._foreach_add_(params, steps, alpha=-lr)
        else:
            torch._foreach_addcdiv_(params, grads, denom, value=-lr)
