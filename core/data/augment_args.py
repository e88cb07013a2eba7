"""Validation of ``create_transform``'s arguments, so a bad value is one ``ConfigError`` when the
pipeline is built, never an exception from inside a transform in the middle of an epoch."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

from ..errors import ConfigError

__all__ = ["MAX_SIDE", "check_image_size", "check_stats", "check_probability", "check_pair", "check_crop_pct",
           "scale_size"]

#: Largest image side a pipeline may resize or crop to (pixels).
MAX_SIDE = 65535


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _side(value: Any, what: str, given: Any) -> int:
    if _is_number(value) and math.isfinite(value) and float(value).is_integer() and 0 < value <= MAX_SIDE:
        return int(value)
    raise ConfigError(f"{what} must hold whole numbers of pixels in 1..{MAX_SIDE}, got {given!r}")


def check_image_size(input_size: Any) -> int | tuple[int, int]:
    """An int or ``(height, width)`` from an int, ``(H, W)`` or ``(C, H, W)`` of positive whole numbers."""
    if _is_number(input_size):
        return _side(input_size, "input_size", input_size)
    if isinstance(input_size, Sequence) and not isinstance(input_size, str) and len(input_size) in (2, 3):
        return (_side(input_size[-2], "input_size", input_size), _side(input_size[-1], "input_size", input_size))
    raise ConfigError(
        f"input_size must be an int, (height, width) or (channels, height, width), got {input_size!r}"
    )


def _numbers(values: Any, what: str) -> tuple[float, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        raise ConfigError(f"{what} must be a non-empty sequence of numbers (one per channel), got {values!r}")
    if not all(_is_number(v) and math.isfinite(v) for v in values):
        raise ConfigError(f"{what} must hold finite numbers (one per channel), got {tuple(values)!r}")
    return tuple(float(v) for v in values)


def check_stats(mean: Any, std: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std: finite numbers, same length, std positive."""
    mean_t, std_t = _numbers(mean, "mean"), _numbers(std, "std")
    if len(mean_t) != len(std_t):
        raise ConfigError(f"mean and std need the same length, got {mean_t} and {std_t}")
    if any(s <= 0 for s in std_t):
        raise ConfigError(f"std values must be positive, got {std_t}")
    return mean_t, std_t


def check_probability(value: Any, what: str) -> float:
    """A finite number in [0, 1]."""
    if not (_is_number(value) and 0.0 <= value <= 1.0):
        raise ConfigError(f"{what} must be a probability in [0, 1], got {value!r}")
    return float(value)


def check_pair(value: Any, what: str) -> tuple[float, float] | None:
    """None, or a (min, max) pair of finite numbers."""
    if value is None:
        return None
    if (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
            and all(_is_number(v) and math.isfinite(v) for v in value)):
        return (float(value[0]), float(value[1]))
    raise ConfigError(f"{what} must be a (min, max) pair of numbers, got {value!r}")


def check_crop_pct(crop_pct: Any, default: float) -> float:
    """``crop_pct`` as a finite positive number; None or 0 mean ``default`` (timm's rule)."""
    if crop_pct is None or (_is_number(crop_pct) and crop_pct == 0):
        return default
    if not (_is_number(crop_pct) and math.isfinite(crop_pct) and crop_pct > 0):
        raise ConfigError(f"crop_pct must be a positive number (e.g. 0.875), got {crop_pct!r}")
    return float(crop_pct)


def scale_size(img_size: int | tuple[int, int], crop_pct: float) -> tuple[int, int]:
    """The resize before the eval crop, ``floor(size / crop_pct)`` per side, checked to be 1..MAX_SIDE."""
    sides = img_size if isinstance(img_size, tuple) else (img_size, img_size)
    exact = [s / crop_pct for s in sides]
    if not all(1 <= v < MAX_SIDE + 1 for v in exact):
        shown = "over 65535 pixels a side" if max(exact) >= MAX_SIDE + 1 else "under 1 pixel"
        raise ConfigError(
            f"crop_pct={crop_pct!r} would resize the image to {shown} before the {sides[0]}x{sides[1]} crop; "
            f"use a crop_pct that keeps the resize within 1..{MAX_SIDE} pixels (typical: 0.875 to 1.0)"
        )
    return math.floor(exact[0]), math.floor(exact[1])
