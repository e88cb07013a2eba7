"""Generalised-mean (GeM) pooling: ``(mean(x^p))^(1/p)`` over the spatial dims."""

from __future__ import annotations

import torch
from torch import nn


class GeMPool(nn.Module):
    """GeM global pooling; p=1 is average pooling, large p approaches max pooling."""

    def __init__(self, flatten: bool = True, p: float = 3.0, eps: float = 1e-6, learn_p: bool = False) -> None:
        super().__init__()
        p_tensor = torch.tensor(float(p))
        if learn_p:
            self.p = nn.Parameter(p_tensor)
        else:
            self.register_buffer("p", p_tensor)
        self.eps = eps
        self.flatten = flatten

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.clamp(min=self.eps).pow(self.p).mean(dim=(-2, -1), keepdim=not self.flatten)
        return pooled.pow(1.0 / self.p)

    def extra_repr(self) -> str:
        return f"p={float(self.p):.2f}, flatten={self.flatten}"
