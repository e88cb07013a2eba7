"""Global pooling modules for NCHW feature maps.

Each reduces H and W to 1 and returns ``(B, C*feat_mult, 1, 1)``, or ``(B, C*feat_mult)`` when
built with ``flatten=True``. Reductions use ``mean``/``amax`` so they script, trace, compile and
export cleanly and work for any spatial size, including 1x1 and odd sizes.

They answer what timm's pooling module answers (``pool_type``, ``is_identity()``, ``feat_mult()``)
and print the way it prints, e.g.
``SelectAdaptivePool2d(pool_type=avg, flatten=Flatten(start_dim=1, end_dim=-1))``, so a tutorial's
``print(model.global_pool)`` reads the same in pimm.
"""

import torch
from torch import nn

__all__ = ["AvgPool", "MaxPool", "AvgMaxPool", "CatAvgMaxPool", "NoPool"]

#: The printed name timm users compare against (the class names stay descriptive).
PRINTED_NAME = "SelectAdaptivePool2d"
_FLATTENED = repr(nn.Flatten(1))
_KEPT = repr(nn.Identity())


class _GlobalPool(nn.Module):
    """Common part: the ``flatten`` switch, the timm-style queries and the printed form."""

    #: The registry name of the pool this class implements ('' = no pooling).
    pool_type: str = ""
    #: Output channels per input channel.
    channel_mult: int = 1

    def __init__(self, flatten: bool = False) -> None:
        super().__init__()
        self.flatten = bool(flatten)
        self.keepdim = not self.flatten
        self.pool_type = type(self).pool_type

    def is_identity(self) -> bool:
        """True for the pass-through pool (``pool_type ''``)."""
        return self.pool_type == ""

    def feat_mult(self) -> int:
        """Output channels per input channel (2 for concatenating pools, else 1)."""
        return self.channel_mult

    def _get_name(self) -> str:
        return PRINTED_NAME

    def extra_repr(self) -> str:
        return f"pool_type={self.pool_type}, flatten={_FLATTENED if self.flatten else _KEPT}"


class AvgPool(_GlobalPool):
    """Global average pooling."""

    pool_type = "avg"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((2, 3), keepdim=self.keepdim)


class MaxPool(_GlobalPool):
    """Global max pooling."""

    pool_type = "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax((2, 3), keepdim=self.keepdim)


class AvgMaxPool(_GlobalPool):
    """Average of global average and global max pooling."""

    pool_type = "avgmax"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x.mean((2, 3), keepdim=self.keepdim) + x.amax((2, 3), keepdim=self.keepdim))


class CatAvgMaxPool(_GlobalPool):
    """Global average and global max pooling concatenated along channels (doubles C)."""

    pool_type = "catavgmax"
    channel_mult = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((x.mean((2, 3), keepdim=self.keepdim), x.amax((2, 3), keepdim=self.keepdim)), 1)


class NoPool(_GlobalPool):
    """No pooling; flattens (B, C*H*W) only when built with ``flatten=True``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flatten:
            return x.flatten(1)
        return x
