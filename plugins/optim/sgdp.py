"""SGDP: momentum SGD whose update loses its radial component on scale-invariant weights."""

from __future__ import annotations

from typing import Any

import torch

from pimm.core.errors import OptionsError

from ._base import PimmOptimizer, cautious_, check_range, momentum_
from ._projection import project

__all__ = ["SGDP"]


class SGDP(PimmOptimizer):
    """SGDP (Heo et al., 2021).

    Rule: ``buf`` starts at zero; ``buf = μ·buf + (1-dampening)·g``; ``d = g + μ·buf``
    (nesterov) or a copy of ``buf``; for ndim > 1 the AdamP projection is applied to ``d`` (see
    :class:`AdamP`), giving the weight-decay scale; ``wd≠0``: ``p *= 1 - lr·wd·wd_scale/(1-μ)``;
    ``p -= lr·d``.

    Defaults: lr is required, momentum=0 (factory 0.9), nesterov=False (factory 'sgdp' True),
    eps=1e-8, delta=0.1, wd_ratio=0.1. ``caution``: the spherical cautious update of
    :func:`project` (1-D tensors: a plain sign mask). A learning rate in every parameter group is
    enough (no top-level lr needed).
    """

    state_keys = frozenset({"momentum"})
    supports_complex = False  # the projection works on rows of the weight

    def __init__(self, params: Any, lr: float | None = None, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 eps: float = 1e-8, delta: float = 0.1, wd_ratio: float = 0.1, caution: bool = False,
                 foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True, optional=True)  # None: every group must carry its own
        check_range("momentum", momentum, 0.0, 1.0)
        if momentum >= 1.0:
            raise OptionsError(f"SGDP needs momentum < 1 (its weight decay divides by 1 - momentum), got {momentum}")
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, eps=eps, delta=delta, wd_ratio=wd_ratio, caution=caution,
                        foreach=foreach)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["momentum"] = torch.zeros_like(p)

    def _finish(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor, d: torch.Tensor) -> None:
        lr, wd, momentum = group["lr"], group["weight_decay"], group["momentum"]
        wd_scale = 1.0
        caution = bool(group.get("caution"))
        if p.dim() > 1:
            wd_scale = project(p, grad, d, group["delta"], group["wd_ratio"], group["eps"], caution)
        elif caution:
            cautious_(d, grad)
        if wd != 0:
            p.mul_(1.0 - lr * wd * wd_scale / (1.0 - momentum))
        p.add_(d, alpha=-lr)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        momentum = group["momentum"]
        buf = state["momentum"]
        momentum_(buf, grad, momentum, group["dampening"])
        work = self._scratch(buf)
        d = torch.add(grad, buf, alpha=momentum, out=work) if group["nesterov"] else work.copy_(buf)
        self._finish(group, p, grad, d)

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        momentum = group["momentum"]
        bufs = [s["momentum"] for s in states]
        torch._foreach_mul_(bufs, momentum)
        torch._foreach_add_(bufs, grads, alpha=1.0 - group["dampening"])
        if group["nesterov"]:
            ds = torch._foreach_add(grads, bufs, alpha=momentum)
        else:
            ds = [b.clone() for b in bufs]
        for p, g, d in zip(params, grads, ds):
            self._finish(group, p, g, d)
