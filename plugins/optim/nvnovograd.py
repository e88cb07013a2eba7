"""NvNovoGrad: NVIDIA's NovoGrad, Adam-like with a per-tensor scalar second moment."""

from __future__ import annotations

from typing import Any

import torch

from ._base import PimmOptimizer, check_betas, check_range, decay_lr

__all__ = ["NvNovoGrad"]


class NvNovoGrad(PimmOptimizer):
    """NovoGrad (Ginsburg et al., 2019), NVIDIA's formulation.

    Rule: per tensor a scalar ``v``: on the first step (while ``v == 0``) ``v = Σg²``, then
    ``v = β2·v + (1-β2)·Σg²``; ``u = g/(sqrt(v) + eps)`` (``amsgrad`` uses the running max of
    ``v``); weight decay: ``decoupled_decay`` → ``p *= 1 - lr·wd``, else ``u += wd·p``;
    ``grad_averaging`` → ``u *= 1-β1``; ``m = β1·m + u``; ``p -= lr·m``. Unlike timm, ``p.grad``
    is left untouched.

    ``corrected_weight_decay`` (with ``decoupled_decay``) decays with ``lr²/peak_lr``.

    Defaults: lr=1e-3, betas=(0.95, 0.98), eps=1e-8, weight_decay=0.
    """

    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})

    supports_multi_tensor = False

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.95, 0.98),
                 eps: float = 1e-8, weight_decay: float = 0.0, grad_averaging: bool = False,
                 amsgrad: bool = False, decoupled_decay: bool = False,
                 corrected_weight_decay: bool = False) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        grad_averaging=grad_averaging, amsgrad=amsgrad, decoupled_decay=decoupled_decay,
                        corrected_weight_decay=corrected_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros((), device=p.device)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros((), device=p.device)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        state["step"] += 1
        v = state["exp_avg_sq"]
        c = (1.0 - beta1) if group["grad_averaging"] else 1.0
        m = state["exp_avg"]
        if p.device.type == "cpu":  # scalar bookkeeping in Python floats: no tiny tensor ops
            norm = float(torch.linalg.vector_norm(grad, dtype=torch.float32)) ** 2
            old = float(v)
            new = norm if old == 0 else old * beta2 + norm * (1.0 - beta2)
            v.fill_(new)
            if group["amsgrad"]:
                new = max(float(state["max_exp_avg_sq"]), new)
                state["max_exp_avg_sq"].fill_(new)
            inv = 1.0 / (new**0.5 + group["eps"])
            # m = β1·m + c·(g/denom + wd·p) (coupled decay), without a temporary for the update
            m.mul_(beta1).add_(grad, alpha=c * inv)
            if wd != 0:
                if group["decoupled_decay"]:
                    p.mul_(1.0 - decay_lr(group) * wd)
                else:
                    m.add_(p, alpha=c * wd)
            p.add_(m, alpha=-lr)
            return
        norm = torch.linalg.vector_norm(grad, dtype=torch.float32).square()
        torch.where(v == 0, norm, v * beta2 + norm * (1.0 - beta2), out=v)
        if group["amsgrad"]:
            v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = v.sqrt().add_(group["eps"]).to(p.dtype)
        update = grad / denom
        if wd != 0:
            if group["decoupled_decay"]:
                p.mul_(1.0 - decay_lr(group) * wd)
            else:
                update.add_(p, alpha=wd)
        m.mul_(beta1).add_(update, alpha=c)
        p.add_(m, alpha=-lr)
