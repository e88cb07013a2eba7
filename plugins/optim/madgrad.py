"""MADGRAD: momentumized, adaptive, dual-averaged gradient method (Defazio & Jelassi, 2021)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import PimmOptimizer, check_range

__all__ = ["MADGRAD", "cube_root"]


def cube_root(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``x^(1/3)`` of a tensor ``x >= 0`` into ``out`` (which may be ``x``).

    On CPU in fp32/fp64 this is ``exp2(log2(x)/3)``, three cheap passes instead of ``pow(x, 1/3)``,
    whose generic kernel costs 1.7x as much (measured 37 vs 64 ms over 25.5M floats). Over
    1e-14..1e4 (MADGRAD's sums of squares) its error against the exact root is at most 7.2e-7
    relative (mean 1.3e-7), against 3.7e-7 (mean 1.4e-7) for fp32 ``pow``, whose exponent is
    1/3 rounded to fp32; 0 maps to 0. Elsewhere (CUDA, where ``pow`` is one memory pass, and
    half precision, where ``log2`` would lose the mantissa) it is ``pow``.
    """
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        torch.log2(x, out=out)
        return torch.exp2(out.div_(3.0), out=out)
    return torch.pow(x, 1.0 / 3.0, out=out)


class MADGRAD(PimmOptimizer):
    """MADGRAD.

    Rule (step ``k`` from 1): ``lr' = lr + eps``; ``λ = lr'·sqrt(k)``. Weight decay:
    ``decoupled_decay`` → ``p *= 1 - lr·wd``, else ``g += wd·p``. State: ``S`` (sum of λg²), ``s``
    (sum of λg) and ``x0`` (the initial parameters, when momentum ≠ 0). ``S += λg²``; ``s += λg``;
    ``z = x0 - s/(S^(1/3) + eps)``; momentum ≠ 0: ``p = μ·p + (1-μ)·z``; momentum 0: ``x0`` is
    recomputed each step as ``p + s_old/(S_old^(1/3) + eps)`` and ``p = z``. Sparse gradients
    are not supported.

    Defaults: lr=1e-2, momentum=0.9, weight_decay=0, eps=1e-6, decoupled_decay=False.
    """

    state_keys = frozenset({"step", "grad_sum_sq", "s", "x0"})

    def __init__(self, params: Any, lr: float = 1e-2, momentum: float = 0.9, weight_decay: float = 0.0,
                 eps: float = 1e-6, decoupled_decay: bool = False, foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        check_range("momentum", momentum, 0.0, 1.0)
        if momentum >= 1.0:
            from pimm.core.errors import OptionsError

            raise OptionsError(f"MADGRAD needs momentum in [0, 1), got {momentum}")
        check_range("weight_decay", weight_decay)
        check_range("eps", eps)
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eps=eps,
                        decoupled_decay=decoupled_decay, foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["grad_sum_sq"] = torch.zeros_like(p)
        state["s"] = torch.zeros_like(p)
        if group["momentum"] != 0:
            state["x0"] = torch.clone(p).detach()

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        eps, wd, momentum = group["eps"], group["weight_decay"], group["momentum"]
        state["step"] += 1
        lamb = (group["lr"] + eps) * math.sqrt(state["step"])
        if wd != 0:
            if group["decoupled_decay"]:
                p.mul_(1.0 - group["lr"] * wd)
            else:
                grad = torch.add(grad, p, alpha=wd, out=self._scratch(grad, 1))
        sum_sq, s = state["grad_sum_sq"], state["s"]
        work = self._scratch(sum_sq)
        if momentum == 0:  # x0 = p + s_old/(S_old^(1/3) + eps), before the sums move on
            x0 = torch.addcdiv(p, s, cube_root(sum_sq, work).add_(eps), out=self._scratch(p, 2))
        else:
            x0 = state["x0"]
        sum_sq.addcmul_(grad, grad, value=lamb)
        s.add_(grad, alpha=lamb)
        cube_root(sum_sq, work).add_(eps)
        torch.addcdiv(x0, s, work, value=-1.0, out=work)  # z = x0 - s/(S^(1/3) + eps), one pass
        if momentum == 0:
            p.copy_(work)
        else:
            p.lerp_(work, 1.0 - momentum)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        eps, wd, momentum = group["eps"], group["weight_decay"], group["momentum"]
        for st in states:
            st["step"] += 1
        lambs = [(group["lr"] + eps) * math.sqrt(st["step"]) for st in states]
        if wd != 0:
            if group["decoupled_decay"]:
                torch._foreach_mul_(params, 1.0 - group["lr"] * wd)
            else:
                grads = torch._foreach_add(grads, params, alpha=wd)
        sums = [st["grad_sum_sq"] for st in states]
        ss = [st["s"] for st in states]
        if momentum == 0:
            rms = torch._foreach_pow(sums, 1 / 3)
            torch._foreach_add_(rms, eps)
            x0s = torch._foreach_addcdiv(params, ss, rms)
        else:
            x0s = [st["x0"] for st in states]
        torch._foreach_addcmul_(sums, grads, grads, lambs)
        torch._foreach_add_(ss, torch._foreach_mul(grads, lambs))
        work = torch._foreach_pow(sums, 1 / 3)
        torch._foreach_add_(work, eps)
        work = torch._foreach_div(ss, work)
        z = torch._foreach_sub(x0s, work)
        if momentum == 0:
            torch._foreach_copy_(params, z)
        else:
            torch._foreach_lerp_(params, z, 1.0 - momentum)
