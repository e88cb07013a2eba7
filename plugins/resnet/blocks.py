"""ResNet residual blocks (basic and bottleneck) and the shortcut downsample paths.

Blocks keep timm's attribute names (``conv1``/``bn1``/.../``se``/``downsample``) so checkpoints load
unchanged. Optional parts (attention, drop-path, downsample) are ``None`` when absent, which adds no
keys and scripts cleanly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from pimm.core.errors import ConfigError
from pimm.core.models.layers import AvgPool2dSame, DropPath

from .stem import make_aa

__all__ = ["BasicBlock", "Bottleneck", "make_downsample", "BLOCKS"]

NormFactory = Callable[[int], nn.Module]
AttnFactory = Callable[[int], nn.Module] | None


class BasicBlock(nn.Module):
    """Two 3x3 convs (the first strided) with an identity or projected shortcut; expansion 1."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        cardinality: int = 1,
        base_width: int = 64,
        reduce_first: int = 1,
        dilation: int = 1,
        first_dilation: int | None = None,
        norm: NormFactory = nn.BatchNorm2d,
        attn: AttnFactory = None,
        aa: str = "",
        drop_block: nn.Module | None = None,
        drop_path: float = 0.0,
        widths: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if cardinality != 1 or base_width != 64:
            raise ConfigError("basic ResNet blocks need cardinality=1 and base_width=64; use bottleneck blocks")
        first_planes = planes // reduce_first
        outplanes = planes * self.expansion
        if widths is not None:
            first_planes, outplanes = widths[0], widths[-1]
        first_dilation = first_dilation or dilation
        use_aa = bool(aa) and (stride == 2 or first_dilation != dilation)

        self.conv1 = nn.Conv2d(
            inplanes, first_planes, 3, stride=1 if use_aa else stride, padding=first_dilation,
            dilation=first_dilation, bias=False,
        )
        self.bn1 = norm(first_planes)
        self.drop_block = drop_block if drop_block is not None else nn.Identity()
        self.act1 = nn.ReLU(inplace=True)
        self.aa = make_aa(aa, first_planes, stride=stride, enable=use_aa)
        self.conv2 = nn.Conv2d(first_planes, outplanes, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = norm(outplanes)
        self.se = attn(planes * self.expansion) if attn is not None else None
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else None
        self.act2 = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.dilation = dilation

    def zero_init_last(self) -> None:
        """Zero the last norm's scale so the residual branch starts at zero."""
        if getattr(self.bn2, "weight", None) is not None:
            nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.act1(self.drop_block(self.bn1(self.conv1(x))))
        x = self.bn2(self.conv2(self.aa(x)))
        if self.se is not None:
            x = self.se(x)
        if self.drop_path is not None:
            x = self.drop_path(x)
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        x += shortcut
        return self.act2(x)


class Bottleneck(nn.Module):
    """1x1 reduce → 3x3 (grouped, strided) → 1x1 expand, with shortcut; expansion 4."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        cardinality: int = 1,
        base_width: int = 64,
        reduce_first: int = 1,
        dilation: int = 1,
        first_dilation: int | None = None,
        norm: NormFactory = nn.BatchNorm2d,
        attn: AttnFactory = None,
        aa: str = "",
        drop_block: nn.Module | None = None,
        drop_path: float = 0.0,
        widths: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        width = math.floor(planes * base_width / 64) * cardinality
        first_planes = width // reduce_first
        outplanes = planes * self.expansion
        if widths is not None:
            first_planes, width, outplanes = widths
        first_dilation = first_dilation or dilation
        use_aa = bool(aa) and (stride == 2 or first_dilation != dilation)

        self.conv1 = nn.Conv2d(inplanes, first_planes, 1, bias=False)
        self.bn1 = norm(first_planes)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(
            first_planes, width, 3, stride=1 if use_aa else stride, padding=first_dilation,
            dilation=first_dilation, groups=cardinality, bias=False,
        )
        self.bn2 = norm(width)
        self.drop_block = drop_block if drop_block is not None else nn.Identity()
        self.act2 = nn.ReLU(inplace=True)
        self.aa = make_aa(aa, width, stride=stride, enable=use_aa)
        self.conv3 = nn.Conv2d(width, outplanes, 1, bias=False)
        self.bn3 = norm(outplanes)
        self.se = attn(planes * self.expansion) if attn is not None else None
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else None
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.dilation = dilation

    def zero_init_last(self) -> None:
        """Zero the last norm's scale so the residual branch starts at zero."""
        if getattr(self.bn3, "weight", None) is not None:
            nn.init.zeros_(self.bn3.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.drop_block(self.bn2(self.conv2(x))))
        x = self.bn3(self.conv3(self.aa(x)))
        if self.se is not None:
            x = self.se(x)
        if self.drop_path is not None:
            x = self.drop_path(x)
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        x += shortcut
        return self.act3(x)


BLOCKS: dict[str, type[nn.Module]] = {"basic": BasicBlock, "bottleneck": Bottleneck}


def make_downsample(
    in_chs: int,
    out_chs: int,
    stride: int,
    dilation: int,
    first_dilation: int,
    kernel_size: int,
    avg_down: bool,
    norm: NormFactory,
) -> nn.Sequential:
    """Shortcut projection: [conv, norm] or, with ``avg_down``, [avg-pool or Identity, 1x1 conv, norm]."""
    if avg_down:
        if stride == 1 and dilation == 1:
            pool: nn.Module = nn.Identity()
        elif dilation > 1:
            pool = AvgPool2dSame(2)
        else:
            pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
        return nn.Sequential(pool, nn.Conv2d(in_chs, out_chs, 1, bias=False), norm(out_chs))
    k = 1 if stride == 1 and dilation == 1 else kernel_size
    d = first_dilation if k > 1 else 1
    padding = ((stride - 1) + d * (k - 1)) // 2
    return nn.Sequential(
        nn.Conv2d(in_chs, out_chs, k, stride=stride, padding=padding, dilation=d, bias=False), norm(out_chs)
    )
