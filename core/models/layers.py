"""Generic layers shared by model families: stochastic depth, DropBlock, blur pooling.

All of them are identity (or a fixed filter) in eval mode and script, trace, compile and export
cleanly: no Python branching on tensor values.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

__all__ = ["DropPath", "DropBlock2d", "BlurPool2d", "AvgPool2dSame", "make_divisible", "drop_block_2d"]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None, round_limit: float = 0.9) -> int:
    """The multiple of ``divisor`` nearest to ``value`` (halves round up), at least ``min_value``.

    ``min_value`` defaults to ``divisor``. When the nearest multiple falls below ``round_limit``
    times ``value`` (rounding down lost too much), the next multiple up is returned instead.
    """
    if divisor <= 0:
        raise ConfigError(f"make_divisible: divisor must be a positive integer, got {divisor!r}")
    steps = math.floor(value / divisor + 0.5)
    result = max(divisor if min_value is None else min_value, steps * divisor)
    if result < round_limit * value:
        result += divisor
    return int(result)


class DropPath(nn.Module):
    """Stochastic depth: zero a whole sample's residual branch with probability ``drop_prob``.

    Kept samples are scaled by ``1 / (1 - drop_prob)`` unless ``scale_by_keep`` is False.
    """

    def __init__(self, drop_prob: float = 0.0, scale_by_keep: bool = True) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)
        self.scale_by_keep = scale_by_keep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_prob <= 0.0:
            return x
        keep = 1.0 - self.drop_prob
        mask = torch.empty((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
        if self.scale_by_keep and keep > 0.0:
            mask = mask / keep
        return x * mask

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob:.3f}"


@torch.fx.wrap
def drop_block_2d(x: torch.Tensor, drop_prob: float, block_size: int, gamma_scale: float = 1.0) -> torch.Tensor:
    """DropBlock (Ghiasi et al., 2018) on an NCHW map, for training.

    Block centres are drawn independently per sample and position (shared by all channels) with
    the rate that makes about ``drop_prob`` of the map fall inside a block; each centre zeroes a
    ``block_size`` square around it (clipped to the map; an even side reaches one cell further
    up/left than down/right), and the survivors are scaled by total/kept so the mean is preserved.
    """
    batch, height, width = x.shape[0], x.shape[-2], x.shape[-1]
    side_h, side_w = min(block_size, height), min(block_size, width)
    centres = (height - side_h + 1) * (width - side_w + 1)  # positions where a whole block fits
    rate = drop_prob * gamma_scale * (height * width) / (side_h * side_w * centres)
    with torch.no_grad():
        # One Bernoulli draw per (sample, row, column), in x's dtype: the order timm draws in,
        # kept as a fact so seeded runs match it.
        seeds = x.new_empty((batch, 1, height, width)).bernoulli_(rate)
        up, left = side_h // 2, side_w // 2
        # A cell is dropped when a seed lies within the block's reach of it: pad by the reach on
        # each side (reversed, since we look from the cell back to the seed) and take window maxima.
        reach = F.pad(seeds, (side_w - 1 - left, left, side_h - 1 - up, up))
        keep = 1.0 - F.max_pool2d(reach, (side_h, side_w), stride=1)
        scale = keep.numel() / (keep.float().sum() + 1e-7)
    return x * (keep * scale.to(x.dtype))


class DropBlock2d(nn.Module):
    """DropBlock regularisation (active in training only)."""

    def __init__(self, drop_prob: float = 0.1, block_size: int = 7, gamma_scale: float = 1.0) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)
        self.block_size = int(block_size)
        self.gamma_scale = float(gamma_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_prob <= 0.0:
            return x
        return drop_block_2d(x, self.drop_prob, self.block_size, self.gamma_scale)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}, block_size={self.block_size}, gamma_scale={self.gamma_scale}"


class BlurPool2d(nn.Module):
    """Anti-aliased downsampling: a fixed binomial blur (depthwise, reflect padded) with a stride.

    The filter is a non-persistent buffer (not in the state_dict); after building on the meta
    device, call :meth:`init_non_persistent_buffers` once the module has real storage.
    """

    def __init__(self, channels: int, filt_size: int = 3, stride: int = 2) -> None:
        super().__init__()
        if filt_size < 2:
            raise ValueError(f"BlurPool2d filt_size must be >= 2, got {filt_size}")
        self.channels = channels
        self.filt_size = filt_size
        self.stride = stride
        pad = ((stride - 1) + (filt_size - 1)) // 2
        self.padding = [pad, pad, pad, pad]
        self.register_buffer("filt", torch.empty(channels, 1, filt_size, filt_size), persistent=False)
        self.init_non_persistent_buffers()

    def init_non_persistent_buffers(self) -> None:
        """(Re)compute the blur filter buffer."""
        row = torch.tensor([math.comb(self.filt_size - 1, k) for k in range(self.filt_size)], dtype=torch.float32)
        row = row / row.sum()
        kernel = (row[:, None] * row[None, :]).expand(self.channels, 1, self.filt_size, self.filt_size)
        if self.filt.device.type != "meta":
            with torch.no_grad():
                self.filt.copy_(kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.padding, mode="reflect")
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.channels)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, filt_size={self.filt_size}, stride={self.stride}"


class AvgPool2dSame(nn.Module):
    """2x2 stride-1 average pool with TF-style 'same' zero padding (right/bottom), for dilated avg-down."""

    def __init__(self, kernel_size: int = 2) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.padding = [(kernel_size - 1) // 2, kernel_size - 1 - (kernel_size - 1) // 2] * 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.padding)
        return F.avg_pool2d(x, self.kernel_size, 1)
