"""torch.optim.NAdam with a leaner per-tensor step on CPU (the factory names 'nadam' and 'nadamw' of torch).

torch's per-tensor NAdam step divides the second moment by its bias correction into a new
tensor, takes its square root into another and adds eps: three passes and two full-size
allocations before the two passes that write the parameter. Here ``sqrt(v/bc2) + eps`` is
``(sqrt(v) + eps·sqrt(bc2)) / sqrt(bc2)``: the square root goes into a reused work buffer, eps is
added in place and ``1/sqrt(bc2)`` joins the two ``addcdiv_`` coefficients, so a step makes seven
passes and allocates nothing. The momentum schedule is torch's to the bit: ``mu_product`` stays a
0-dim tensor of torch's scalar dtype, multiplied in place as torch does, and read back as a float.

The class is bound as ``LeanNAdam`` (``pimm.core.optim`` keeps pimm's own legacy ``Nadam``) and named
``NAdam``, as torch's, for its repr and pickling.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import scratch
from .lean_step import LeanCpuStep, scalar_dtype

__all__ = ["LeanNAdam"]


class LeanNAdam(LeanCpuStep, torch.optim.NAdam):
    """torch.optim.NAdam (same arguments, defaults and state) with pimm's CPU per-tensor step."""

    def _step_one(self, group: dict[str, Any], p: torch.Tensor) -> None:
        beta1, beta2 = group["betas"]
        lr, wd, eps = float(group["lr"]), group["weight_decay"], group["eps"]
        state = self.state[p]
        if not state:
            state["step"] = torch.tensor(0.0, dtype=scalar_dtype())
            state["mu_product"] = torch.tensor(1.0, dtype=scalar_dtype())
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
