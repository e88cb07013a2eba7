"""SignSGD with momentum: ``m = beta*m + (1-beta)*g``; ``p -= lr * sign(m)`` (plus decoupled decay)."""

from __future__ import annotations

import torch
from torch.optim import Optimizer


class SignSGD(Optimizer):
    """Sign of the momentum as the update; robust to gradient scale."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0) -> None:
        if not lr > 0.0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, beta, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buf = state["momentum_buffer"]
                buf.mul_(beta).add_(p.grad, alpha=1.0 - beta)
                if wd:
                    p.mul_(1.0 - lr * wd)
                p.add_(torch.sign(buf), alpha=-lr)
        return loss
