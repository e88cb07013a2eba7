"""ResNet stems: the first conv(s) and the stem downsampling that precede ``layer1``.

Keys follow timm: a single 7x7 ``conv1`` or a three-conv ``conv1`` Sequential (indices 0..6), then
``bn1``/``act1`` at top level, then ``maxpool`` (a pool, or a conv Sequential for ResNet-RS).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from pimm.core.errors import ConfigError
from pimm.core.models.layers import BlurPool2d

__all__ = ["make_stem_conv", "make_stem_pool", "make_aa", "STEM_TYPES"]

STEM_TYPES = ("", "deep", "deep_tiered")
NormFactory = Callable[[int], nn.Module]


def make_aa(kind: str, channels: int, stride: int = 2, enable: bool = True) -> nn.Module:
    """Anti-aliasing downsampler ('avg': 2x2 average pool, 'blur': binomial blur pool) or Identity."""
    if not kind or not enable:
        return nn.Identity()
    if kind == "avg":
        return nn.AvgPool2d(kernel_size=stride)
    if kind == "blur":
        return BlurPool2d(channels, stride=stride)
    raise ConfigError(f"unknown anti-aliasing {kind!r}; use '', 'avg' or 'blur'")


def make_stem_conv(in_chans: int, stem_type: str, stem_width: int, norm: NormFactory) -> tuple[nn.Module, int]:
    """The stem conv(s) and their output width (``bn1``/``act1`` follow at top level)."""
    if stem_type not in STEM_TYPES:
        raise ConfigError(f"unknown stem_type {stem_type!r}; use one of {STEM_TYPES}")
    if not stem_type:
        return nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, bias=False), 64
    out = stem_width * 2
    first, second = (3 * (stem_width // 4), stem_width) if stem_type == "deep_tiered" else (stem_width, stem_width)
    conv = nn.Sequential(
        nn.Conv2d(in_chans, first, 3, stride=2, padding=1, bias=False),
        norm(first),
        nn.ReLU(inplace=True),
        nn.Conv2d(first, second, 3, stride=1, padding=1, bias=False),
        norm(second),
        nn.ReLU(inplace=True),
        nn.Conv2d(second, out, 3, stride=1, padding=1, bias=False),
    )
    return conv, out


def make_stem_pool(channels: int, replace_stem_pool: bool, aa: str, norm: NormFactory) -> nn.Module:
    """The stride-2 step after the stem convs (kept under the name ``maxpool`` for weight compatibility)."""
    if replace_stem_pool:
        layers: list[nn.Module] = [nn.Conv2d(channels, channels, 3, stride=1 if aa else 2, padding=1, bias=False)]
        if aa:
            layers.append(make_aa(aa, channels, stride=2))
        layers += [norm(channels), nn.ReLU(inplace=True)]
        return nn.Sequential(*layers)
    if aa == "avg":
        return nn.AvgPool2d(kernel_size=2)
    if aa:
        return nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1), make_aa(aa, channels, stride=2))
    return nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
