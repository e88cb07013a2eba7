"""torch.optim.NAdam with a leaner per-tensor step on CPU (the factory name 'nadam').

torch's per-tensor NAdam step divides the second moment by its bias correction into a new
tensor, takes its square root into another and adds eps: three passes and two full-size
allocations before the two passes that write the parameter. Here ``sqrt(v/bc2) + eps`` is
``(sqrt(v) + eps·sqrt(bc2)) / sqrt(bc2)``: the square root goes into a reused work buffer, eps is
added in place and ``1/sqrt(bc2)`` joins the two ``addcdiv_`` coefficients, so a step makes seven
passes and allocates nothing. The momentum schedule is torch's to the bit: ``mu_product`` stays a
0-dim tensor of torch's scalar dtype, multiplied in place as torch does, and read back as a float.
(Summing the gradient and momentum terms first to divide once was tried: no faster, as the extra
pass into a buffer costs what the division saved.)

The class is bound as ``LeanNAdam`` (``pimm.core.optim`` keeps pimm's own legacy ``Nadam``) and named
``NAdam``, as torch's, for its repr and pickling.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import scratch
from .lean_step import LeanCpuStep

__all__ = ["LeanNAdam"]


class LeanNAdam(LeanCpuStep, torch.optim.NAdam):
    """torch.optim.NAdam (same arguments, defaults and state) with pimm's CPU per-tensor step."""

    def _step_one(self, group: dict[str, Any], p: torch.Tensor) -> None:
        beta1, beta2 = group["betas"]
        lr, eps = float(group["lr"]), group["eps"]
        state = self.state[p]
        p, grad, m, v, step = self._begin(group, p, mu_product=1.0)
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mu_product = state["mu_product"]
        mu_product *= mu
        product = mu_product.item()
        m.lerp_(grad, 1.0 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        bc2_sqrt = math.sqrt(1.0 - beta2**step)
        denom = torch.sqrt(v, out=scratch(self, v)).add_(eps * bc2_sqrt)
        p.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - product) * bc2_sqrt)
        p.addcdiv_(m, denom, value=-lr * mu_next / (1.0 - product * mu_next) * bc2_sqrt)


LeanNAdam.__name__ = LeanNAdam.__qualname__ = "NAdam"  # torch's name in reprs and messages
NAdam = LeanNAdam  # pickle finds the class by that name
