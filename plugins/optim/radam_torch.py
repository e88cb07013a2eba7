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
from .lean_step import LeanCpuStep

__all__ = ["LeanRAdam"]


class LeanRAdam(LeanCpuStep, torch.optim.RAdam):
    """torch.optim.RAdam (same arguments, defaults and state) with pimm's CPU per-tensor step."""

    def _step_one(self, group: dict[str, Any], p: torch.Tensor) -> None:
        beta1, beta2 = group["betas"]
        lr = float(group["lr"])
        p, grad, m, v, step = self._begin(group, p)
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
