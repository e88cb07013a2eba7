"""Builders for the torchvision transforms the pipelines use, taking plain (JSON-able) options.

Each builder validates its arguments, converts names (interpolation) to torchvision's types and
returns the torchvision transform itself, so reprs read exactly like torchvision's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torchvision.transforms as T

from pimm.core.errors import ConfigError

from .interpolation import str_to_interp_mode
from .tensor_convert import Normalize

__all__ = [
    "resize",
    "center_crop",
    "random_horizontal_flip",
    "random_vertical_flip",
    "color_jitter",
    "random_grayscale",
    "random_gaussian_blur",
    "normalize",
]


def _probability(p: float, what: str = "p") -> float:
    if not 0.0 <= float(p) <= 1.0:
        raise ConfigError(f"{what} must be a probability in [0, 1], got {p!r}")
    return float(p)


def _size_arg(size: int | Sequence[int]) -> int | list[int] | tuple[int, ...]:
    if isinstance(size, int) and not isinstance(size, bool):
        if size <= 0:
            raise ConfigError(f"size must be positive, got {size!r}")
        return size
    if isinstance(size, Sequence) and len(size) in (1, 2) and all(int(s) > 0 for s in size):
        return tuple(int(s) for s in size)
    raise ConfigError(f"size must be a positive int or an (height, width) pair, got {size!r}")


def resize(
    size: int | Sequence[int],
    interpolation: str = "bilinear",
    max_size: int | None = None,
    antialias: bool = True,
) -> T.Resize:
    """torchvision ``Resize``: an int resizes the shorter edge, a pair gives (height, width)."""
    mode = str_to_interp_mode("bilinear" if interpolation == "random" else interpolation)
    return T.Resize(_size_arg(size), interpolation=mode, max_size=max_size, antialias=antialias)


def center_crop(size: int | Sequence[int]) -> T.CenterCrop:
    """torchvision ``CenterCrop`` to ``size``."""
    return T.CenterCrop(_size_arg(size))


def random_horizontal_flip(p: float = 0.5) -> T.RandomHorizontalFlip:
    """torchvision ``RandomHorizontalFlip`` with probability ``p``."""
    return T.RandomHorizontalFlip(p=_probability(p))


def random_vertical_flip(p: float = 0.5) -> T.RandomVerticalFlip:
    """torchvision ``RandomVerticalFlip`` with probability ``p``."""
    return T.RandomVerticalFlip(p=_probability(p))


def color_jitter(
    brightness: float | Sequence[float] = 0.0,
    contrast: float | Sequence[float] = 0.0,
    saturation: float | Sequence[float] = 0.0,
    hue: float | Sequence[float] = 0.0,
    p: float | None = None,
) -> Any:
    """torchvision ``ColorJitter``; with ``p`` set, wrapped in ``RandomApply(p=p)``."""
    try:
        jitter = T.ColorJitter(brightness, contrast, saturation, hue)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid color jitter arguments: {exc}") from None
    if p is None:
        return jitter
    return T.RandomApply([jitter], p=_probability(p))


def random_grayscale(p: float = 0.1) -> T.RandomGrayscale:
    """torchvision ``RandomGrayscale`` with probability ``p`` (keeps the channel count)."""
    return T.RandomGrayscale(p=_probability(p))


def random_gaussian_blur(
    p: float = 0.5, kernel_size: int = 23, sigma: Sequence[float] = (0.1, 2.0)
) -> T.RandomApply:
    """torchvision ``GaussianBlur(kernel_size, sigma)`` applied with probability ``p``."""
    if kernel_size <= 0 or kernel_size % 2 == 0:
        raise ConfigError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
    try:
        blur = T.GaussianBlur(kernel_size=kernel_size, sigma=tuple(sigma))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid gaussian blur arguments: {exc}") from None
    return T.RandomApply([blur], p=_probability(p))


def normalize(
    mean: Sequence[float] = (0.485, 0.456, 0.406),
    std: Sequence[float] = (0.229, 0.224, 0.225),
    inplace: bool = False,
) -> Normalize:
    """Per-channel ``(x - mean) / std`` on float tensors (torchvision ``Normalize`` repr)."""
    return Normalize(mean, std, inplace=inplace)
