"""The shared frame of pimm's lean per-tensor CPU steps for torch.optim classes (radam, nadam).

torch has no fused kernel for RAdam or NAdam, and their per-tensor steps build the update out of
full-size temporaries. A lean subclass keeps torch's class, constructor, parameter groups, state
layout, state_dict and repr, and replaces only the per-tensor step on CPU with one that makes
fewer passes into a reused work buffer; ``foreach=True``, ``capturable``, ``differentiable``, CUDA
and sparse gradients keep torch's own step. Subclasses implement ``_step_one(group, p)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ._base import scratch

__all__ = ["LeanCpuStep", "scalar_dtype"]


def scalar_dtype() -> torch.dtype:
    """The dtype torch keeps 0-dim optimizer state in (``step``; float64 under a float64 default dtype)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class LeanCpuStep:
    """Mixin for a torch.optim class: its ``step`` takes ``_step_one`` per parameter where that applies."""

    param_groups: list[dict[str, Any]]

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
        """One optimizer step; ``closure`` re-evaluates the model and returns the loss."""
        if not self._takes_lean_step():
            return super().step(closure)  # type: ignore[misc]
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
        raise NotImplementedError

    def _begin(self, group: dict[str, Any], p: torch.Tensor, **scalars: float) -> tuple[Any, ...]:
        """The common start of an Adam-family step, as torch's classes do it: state created on first use
        (``step`` and the 0-dim ``scalars`` in torch's scalar dtype, ``exp_avg``, ``exp_avg_sq``), the
        gradient negated for ``maximize``, complex tensors viewed as real, ``step`` advanced, and weight
        decay applied (decoupled on ``p``; coupled into a scratch copy of the gradient). Returns
        ``(p, grad, exp_avg, exp_avg_sq, step)`` with ``step`` a float."""
        state = self.state[p]  # type: ignore[attr-defined]
        if not state:
            state["step"] = torch.tensor(0.0, dtype=scalar_dtype())
            for name, value in scalars.items():
                state[name] = torch.tensor(value, dtype=scalar_dtype())
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        grad = -p.grad if group["maximize"] else p.grad
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if torch.is_complex(p):
            p, grad, m, v = (torch.view_as_real(t) for t in (p, grad, m, v))
        state["step"] += 1
        lr, wd = float(group["lr"]), group["weight_decay"]
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1.0 - lr * wd)
            else:
                grad = torch.add(grad, p, alpha=wd, out=scratch(self, grad, 1))  # type: ignore[arg-type]
        return p, grad, m, v, state["step"].item()
