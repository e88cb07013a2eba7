"""Global pooling modules for NCHW feature maps.

Each reduces H and W to 1 and returns ``(B, C*feat_mult, 1, 1)``, or ``(B, C*feat_mult)`` when
built with ``flatten=True``. Reductions use ``mean``/``amax`` so they script, trace, compile and
export cleanly and work for any spatial size, including 1x1 and odd sizes.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AvgPool", "MaxPool", "AvgMaxPool", "CatAvgMaxPool", "NoPool"]


class _GlobalPool(nn.Module):
    def __init__(self, flatten: bool = False) -> None:
        super().__init__()
        self.flatten = bool(flatten)
        self.keepdim = not self.flatten

    def extra_repr(self) -> str:
        return f"flatten={self.flatten}"


class AvgPool(_GlobalPool):
    """Global average pooling."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((2, 3), keepdim=self.keepdim)


class MaxPool(_GlobalPool):
    """Global max pooling."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax((2, 3), keepdim=self.keepdim)


class AvgMaxPool(_GlobalPool):
    """Average of global average and global max pooling."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x.mean((2, 3), keepdim=self.keepdim) + x.amax((2, 3), keepdim=self.keepdim))


class CatAvgMaxPool(_GlobalPool):
    """Global average and global max pooling concatenated along channels (doubles C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((x.mean((2, 3), keepdim=self.keepdim), x.amax((2, 3), keepdim=self.keepdim)), 1)


class NoPool(_GlobalPool):
    """No pooling; flattens (B, C*H*W) only when built with ``flatten=True``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flatten:
            return x.flatten(1)
        return x
