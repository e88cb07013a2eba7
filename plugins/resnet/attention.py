"""Channel attention modules used inside ResNet blocks: squeeze-and-excitation and ECA.

Both sit under the block attribute ``se`` (timm's key layout): SE has ``se.fc1`` / ``se.fc2``
1x1 convs, ECA a single ``se.conv`` 1-D conv across channels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from pimm.core.errors import ConfigError
from pimm.core.models.layers import make_divisible

__all__ = ["SEModule", "EcaModule", "attention_factory", "eca_kernel_size"]


class SEModule(nn.Module):
    """Squeeze-and-excitation: global mean → 1x1 conv (reduce) → ReLU → 1x1 conv → sigmoid gate."""

    def __init__(self, channels: int, rd_ratio: float = 1.0 / 16, rd_divisor: int = 8) -> None:
        super().__init__()
        rd_channels = make_divisible(channels * rd_ratio, rd_divisor, round_limit=0.0)
        self.fc1 = nn.Conv2d(channels, rd_channels, kernel_size=1, bias=True)
        self.bn = nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd_channels, channels, kernel_size=1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        s = self.fc2(self.act(self.bn(self.fc1(s))))
        return x * self.gate(s)


def eca_kernel_size(channels: int, gamma: int = 2, beta: int = 1) -> int:
    """ECA's adaptive 1-D kernel size for ``channels`` (odd, at least 3)."""
    t = int(abs(math.log2(channels) + beta) / gamma)
    return max(t if t % 2 else t + 1, 3)


class EcaModule(nn.Module):
    """Efficient channel attention: global mean → 1-D conv across channels → sigmoid gate."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        k = eca_kernel_size(channels)
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.mean((2, 3)).unsqueeze(1)  # (B, 1, C)
        y = self.gate(self.conv(y))
        return x * y.transpose(1, 2).unsqueeze(-1)


def attention_factory(kind: str, rd_ratio: float | None = None) -> Callable[[int], nn.Module] | None:
    """A ``channels -> module`` builder for attention ``kind`` ('' / 'se' / 'eca'), None for ''."""
    if not kind:
        return None
    if kind == "se":
        ratio = 1.0 / 16 if rd_ratio is None else rd_ratio
        return lambda channels: SEModule(channels, rd_ratio=ratio)
    if kind == "eca":
        return EcaModule
    raise ConfigError(f"unknown attention {kind!r} for ResNet blocks; use '', 'se' or 'eca'")
