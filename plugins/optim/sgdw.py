"""SGDW: momentum SGD with decoupled weight decay."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.sgd import sgd

from pimm.core.errors import OptionsError
from pimm.core.optim.fused import fused_eligible

from ._base import PimmOptimizer, cautious, cautious_, check_range, decay_lr, momentum_

__all__ = ["SGDW"]


class SGDW(PimmOptimizer):
    """SGD with decoupled weight decay (Loshchilov & Hutter).

    Rule: ``p *= 1 - lr·wd``; with momentum: ``buf = g`` on the first step, then
    ``buf = μ·buf + (1-dampening)·g``; ``g = g + μ·buf`` (nesterov) or ``buf``; ``p -= lr·g``
    (``maximize`` negates ``g`` first).

    ``caution`` masks the momentum direction where it and ``g`` disagree in sign;
    ``corrected_weight_decay`` decays with ``lr²/peak_lr`` (factory 'sgdc').

    Defaults: lr=1e-3, momentum=0 (factory 0.9), nesterov=False (factory 'sgdw' True). No eps.

    Path: with ``foreach=None`` (the default) the decay is one pass and the rest is torch's fused
    SGD kernel, on CPU and CUDA alike (about 2x the per-tensor path on a CPU); ``foreach=False``
    takes pimm's per-tensor path, ``foreach=True`` its multi-tensor path.
    """

    state_keys = frozenset({"momentum_buffer"})

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, caution: bool = False,
                 corrected_weight_decay: bool = False, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        check_range("lr", lr, low_open=True)
        check_range("momentum", momentum)
        check_range("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise OptionsError("nesterov momentum needs momentum > 0 and dampening == 0")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, caution=caution, corrected_weight_decay=corrected_weight_decay,
                        maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        lr, wd, momentum = group["lr"], group["weight_decay"], group["momentum"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            p.mul_(1.0 - decay_lr(group) * wd)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = torch.clone(grad).detach()
            else:
                momentum_(buf, grad, momentum, group["dampening"])
            if group.get("caution"):
                grad = cautious_(grad.add(buf, alpha=momentum), grad) if group["nesterov"] else cautious(buf, grad)
            elif group["nesterov"]:  # p -= lr·(g + μ·buf) as two in-place passes: no temporary
                p.add_(grad, alpha=-lr)
                grad = buf
                lr = lr * momentum
            else:
                grad = buf
        p.add_(grad, alpha=-lr)

    def _fused(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> bool:
        """``p *= 1 - lr·wd``, then torch's fused SGD kernel (no decay): the same rule in two passes.

        torch's kernel copies the gradient into a new momentum buffer on its first step and then
        takes ``buf = μ·buf + (1-dampening)·g``, ``g + μ·buf`` (nesterov) or ``buf`` as the step,
        exactly this optimizer's rule. Declined with ``caution`` and for tensors the kernel
        cannot take (not floating point, not on CPU/CUDA).
        """
        if group.get("caution") or not fused_eligible(params):
            return False
        lr, wd, momentum = group["lr"], group["weight_decay"], group["momentum"]
        if wd != 0:
            torch._foreach_mul_(params, 1.0 - decay_lr(group) * wd)
        settings = dict(weight_decay=0.0, momentum=momentum, lr=lr, dampening=group["dampening"],
                        nesterov=group["nesterov"], maximize=group["maximize"])
        if momentum == 0:
            sgd(params, grads, [None] * len(params), fused=True, **settings)
            return True
        old = [i for i, s in enumerate(states) if "momentum_buffer" in s]
        new = [i for i, s in enumerate(states) if "momentum_buffer" not in s]
        if old:  # the kernel treats a call as a first step only when no buffer exists yet
            sgd([params[i] for i in old], [grads[i] for i in old],
                [states[i]["momentum_buffer"] for i in old], fused=True, **settings)
        if new:
            bufs: list[torch.Tensor | None] = [None] * len(new)
            sgd([params[i] for i in new], [grads[i] for i in new], bufs, fused=True, **settings)
            for i, buf in zip(new, bufs):
                states[i]["momentum_buffer"] = buf
        return True

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        lr, wd, momentum = group["lr"], group["weight_decay"], group["momentum"]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if wd != 0:
            torch._foreach_mul_(params, 1.0 - decay_lr(group) * wd)
        if momentum != 0:
            old = [i for i, s in enumerate(states) if "momentum_buffer" in s]
            if old:
                bufs = [states[i]["momentum_buffer"] for i in old]
                torch._foreach_mul_(bufs, momentum)
                torch._foreach_add_(bufs, [grads[i] for i in old], alpha=1.0 - group["dampening"])
            for s, g in zip(states, grads):
                if "momentum_buffer" not in s:
                    s["momentum_buffer"] = torch.clone(g).detach()
            bufs = [s["momentum_buffer"] for s in states]
            steps = torch._foreach_add(grads, bufs, alpha=momentum) if group["nesterov"] else bufs
            if group.get("caution"):
                steps = [cautious(d, g) for d, g in zip(steps, grads)]
            grads = steps
        torch._foreach_add_(params, grads, alpha=-lr)
