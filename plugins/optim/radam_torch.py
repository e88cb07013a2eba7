"""torch.optim.RAdam with a leaner per-tensor step on CPU (the factory names 'radam' and 'radamw').

torch has no fused RAdam kernel, and its per-tensor step builds the update out of full-size
temporaries: ``m/bc1``, ``·lr``, ``sqrt(v)``, ``bc2^½/…``, ``·rect``, five passes that allocate before
the one that writes the parameter. The rule itself needs one: once the variance is tractable
(ρt > 5), ``p -= lr·rect·sqrt(bc2)/bc1 · m/(sqrt(v) + eps)`` is an ``addcdiv_`` over ``sqrt(v) + eps``
(two passes into a reused work buffer), before that ``p -= (lr/bc1)·m``. The subclass keeps
torch's class and state layout (``step`` as a 0-dim tensor, ``exp_avg``, ``exp_avg_sq``); where
torch's own step still runs is :mod:`.lean_step`'s rule.

The class is bound as ``LeanRAdam`` (so ``pimm.core.optim.RAdam`` stays pimm's classic-rule RAdam)
and named ``RAdam``, as torch's, for its repr.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import scratch
from .lean_step import LeanCpuStep, scalar_dtype

__all__ = ["LeanRAdam"]


class LeanRAdam(LeanCpuStep, torch.optim.RAdam):
    """torch.optim.RAdam (same arguments, defaults and state) with pimm's CPU per-tensor step."""

    def _step_one(self, group: dict[str, Any], p: torch.Tensor) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = float(group["lr"]), group["weight_decay"]
        state = self.state[p]
        if not state:
            state["step"] = torch.tensor(0.0, dtype=scalar_dtype())
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        grad = -p.grad if group["maximize"] else p.grad
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if torch.is_complex(p):
            p, grad, m, v = (torch.view_as_real(t) for t in (p, grad, m, v))
        state["step"] += 1
        step = state["step"].item()
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1.0 - lr * wd)
            else:
                grad = torch.add(grad, p, alpha=wd, out=scratch(self, grad, 1))
        m.lerp_(grad, 1.0 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        bc1, bc2 = 1.0 - beta1**step, 1.0 - beta2**step
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * beta2**step / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = torch.sqrt(v, out=scratch(self, v)).add_(group["eps"])
            p.addcdiv_(m, denom, value=-lr * rect * math.sqrt(bc2) / bc1)
        else:
            p.add_(m, alpha=-lr / bc1)


LeanRAdam.__name__ = LeanRAdam.__qualname__ = "RAdam"  # torch's name in reprs and messages
RAdam = LeanRAdam  # pickle finds the class by that name
