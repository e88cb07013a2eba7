"""Magnitude sampling shared by every op: the 0..10 scale, noise (``mstd``) and the upper clip.

The PIL path draws with Python ``random`` (one image per call, the order timm uses); the tensor
path draws one magnitude per sample with torch's CPU generator, so results do not depend on the
device.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["LEVEL_DENOM", "sample_magnitude", "sample_magnitudes", "uniform_noise"]

#: The magnitude that maps to an op's full strength: ``level_args`` receives ``magnitude / LEVEL_DENOM``.
LEVEL_DENOM = 10.0


def uniform_noise(std: float) -> bool:
    """True when ``std`` asks for a uniform magnitude in [0, magnitude] (inf, -inf or above 100)."""
    return math.isinf(std) or std > 100


def sample_magnitude(magnitude: float, std: float, mmax: float | None) -> float:
    """One magnitude with noise ``std`` (Python ``random``), clipped to [0, mmax or 10].

    ``std`` 0: the magnitude itself; > 0: gaussian around it; inf, -inf or > 100: uniform in
    [0, magnitude].
    """
    value = magnitude
    if uniform_noise(std):
        value = random.uniform(0, magnitude)
    elif std > 0:
        value = random.gauss(magnitude, std)
    return max(0.0, min(value, mmax or LEVEL_DENOM))


def sample_magnitudes(n: int, magnitude: float, std: float, mmax: float | None) -> torch.Tensor:
    """``n`` magnitudes as a float64 tensor (torch's CPU generator), same rule as :func:`sample_magnitude`."""
    import torch

    if uniform_noise(std):
        values = torch.rand(n, dtype=torch.float64) * magnitude
    elif std > 0:
        values = torch.randn(n, dtype=torch.float64).mul_(std).add_(float(magnitude))
    else:
        values = torch.full((n,), float(magnitude), dtype=torch.float64)
    return values.clamp_(0.0, float(mmax or LEVEL_DENOM))
