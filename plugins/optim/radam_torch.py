"""torch.optim.RAdam with a leaner per-tensor step on CPU (the factory names 'radam' and 'radamw').

torch has no fused RAdam kernel, and its per-tensor step builds the update out of full-size
temporaries: ``m/bc1``, ``·lr``, ``sqrt(v)``, ``bc2^½/…``, ``·rect``, five passes that allocate before
the one that writes the parameter. The rule itself needs one: once the variance is tractable
(ρt > 5), ``p -= lr·rect·sqrt(bc2)/bc1 · m/(sqrt(v) + eps)`` is an ``addcdiv_`` over ``sqrt(v) + eps``
(two passes into a reused work buffer), before that ``p -= (lr/bc1)·m``. This subclass keeps
torch's class, constructor, parameter groups, state layout (``step`` as a 0-dim tensor,
``exp_avg``, ``exp_avg_sq``), state_dict and repr, and replaces only the per-tensor step on CPU;
``foreach=True``, ``capturable``, ``differentiable``, CUDA and sparse gradients keep torch's own.

The class is bound as ``LeanRAdam`` (so ``pimm.core.optim.RAdam`` stays pimm's classic-rule RAdam)
and named ``RAdam``, as torch's, for its repr.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ._base import scratch

__all__ = ["LeanRAdam"]


def _scalar_dtype() -> torch.dtype:
    """The dtype torch keeps RAdam's ``step`` in (float64 under a float64 default dtype)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class LeanRAdam(torch.optim.RAdam):
    """torch.optim.RAdam (same arguments, defaults and state) with pimm's CPU per-tensor step."""

    def _takes_lean_step(self) -> bool:
        for group in self.param_groups:
            if group["foreach"] or group["capturable"] or group["differentiable"]:
                return False
            for p in group["params"]:
                if p.grad is not None and (p.device.type != "cpu" or p.grad.is_sparse):
                    return False
        return True

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RAdam step; ``closure`` re-evaluates the model and returns the loss."""
        if not self._takes_lean_step():
            return super().step(closure)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._step_one(group, p)
        return loss

    def _step_one(self, group: dict[str, Any], p: torch.Tensor) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = float(group["lr"]), group["weight_decay"]
        state = self.state[p]
        if not state:
            state["step"] = torch.tensor(0.0, dtype=_scalar_dtype())
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
