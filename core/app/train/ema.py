"""Model EMA: an exponential moving average of a model's weights, kept beside the trained model.

After every optimizer step ``ema = decay * ema + (1 - decay) * weights`` for floating-point
parameters and buffers (integer buffers such as BatchNorm's step count are copied). With
``warmup`` the decay ramps up as ``min(decay, (1 + n) / (10 + n))`` over the first updates, so an
EMA of a short run is not dominated by the random initialisation.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

__all__ = ["ModelEma"]


class ModelEma(nn.Module):
    """Holds ``module``, an averaged copy of a model (same device; eval mode; no gradients)."""

    def __init__(self, model: nn.Module, decay: float = 0.9998, warmup: bool = False) -> None:
        super().__init__()
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.warmup = warmup
        self.register_buffer("updates", torch.zeros((), dtype=torch.long), persistent=True)

    def current_decay(self) -> float:
        """The decay the next update uses."""
        if not self.warmup:
            return self.decay
        n = int(self.updates)
        return min(self.decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Blend ``model``'s current weights into the average."""
        decay = self.current_decay()
        own = self.module.state_dict()
        floats_ema, floats_new = [], []
        for name, value in model.state_dict().items():
            target = own[name]
            if target.is_floating_point():
                floats_ema.append(target)
                floats_new.append(value.to(target.dtype))
            else:
                target.copy_(value)
        if floats_ema:
            torch._foreach_lerp_(floats_ema, floats_new, 1.0 - decay)
        self.updates += 1

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)
