"""Input checks of Mixup / CutMix / FastCollateMixup: settings when built, batches when called.

Every problem is one :class:`MixInputError` (a pimm ``ConfigError``, also a ``TypeError``) that
says what was wrong and how to fix it.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import torch

from pimm.core.errors import ConfigError

__all__ = ["MixInputError", "check_number", "check_images", "class_targets"]


class MixInputError(ConfigError, TypeError):
    """A Mixup setting, image batch or target batch that cannot be mixed."""


def check_number(value: Any, what: str, lo: float, hi: float = math.inf, hi_open: bool = False) -> float:
    """``value`` as a float in [lo, hi] (or [lo, hi)); bools, strings, NaN, infinities and
    out-of-range values are errors."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise MixInputError(f"Mixup {what} must be a number, got {value!r}")
    number = float(value)
    above = number >= hi if hi_open else number > hi
    if not math.isfinite(number) or number < lo or above:
        if math.isinf(hi):
            allowed = f">= {lo}"
        else:
            allowed = f"in [{lo}, {hi})" if hi_open else f"in [{lo}, {hi}]"
        raise MixInputError(f"Mixup {what} must be a finite number {allowed}, got {value!r}")
    return number


def check_images(x: Any, who: str, blends: bool) -> None:
    """``x`` must be an (B, C, H, W) tensor; blending (Mixup) needs floating point."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        got = f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise MixInputError(f"{who} expects a (B, C, H, W) image tensor, got {got}")
    if blends and not x.is_floating_point():
        raise MixInputError(
            f"Mixup blends images and needs a float tensor, got {x.dtype}; convert with x.float() (or "
            "MaybeToTensor), or use FastCollateMixup to mix uint8 images while collating"
        )


def class_targets(target: Any, batch: int, num_classes: int, multi_label: bool, who: str) -> torch.Tensor:
    """Validated targets: (B,) int64 class indices in [0, num_classes), or, with ``multi_label``,
    dense (B, num_classes) float targets. Values are checked for CPU targets (no GPU sync)."""
    if not isinstance(target, torch.Tensor):
        raise MixInputError(f"{who} expects targets as a tensor, got {type(target).__name__}")
    if target.ndim == 0 or target.shape[0] != batch:
        raise MixInputError(f"{who} expects one target per image ({batch}), got shape {tuple(target.shape)}")
    if multi_label:
        if target.ndim != 2 or target.shape[1] != num_classes:
            raise MixInputError(
                f"{who} with multi_label=True expects dense targets of shape ({batch}, {num_classes}), "
                f"got {tuple(target.shape)}"
            )
        if target.dtype == torch.bool or target.is_complex():
            raise MixInputError(f"{who} multi-label targets must be real numbers, got {target.dtype}")
        return target
    if target.ndim != 1:
        raise MixInputError(
            f"{who} expects class indices of shape ({batch},), got {tuple(target.shape)}; dense (B, C) "
            "targets are mixed only with multi_label=True (soft labels cannot be told from multi-hot ones)"
        )
    if target.dtype == torch.bool or target.is_complex():
        raise MixInputError(f"{who} targets must be integer class indices, got {target.dtype}")
    if target.is_floating_point():
        if target.device.type == "cpu" and not bool(torch.equal(target, target.trunc())):
            bad = target[target != target.trunc()][0].item()
            raise MixInputError(
                f"{who} targets must be whole class indices, got the fractional value {bad}; pass integer "
                "labels (for soft labels use dense targets with multi_label=True)"
            )
        target = target.long()
    if target.device.type == "cpu" and target.numel():
        lo, hi = int(target.min()), int(target.max())
        if lo < 0 or hi >= num_classes:
            raise MixInputError(
                f"{who} targets must be class indices in [0, {num_classes}), got values in [{lo}, {hi}]; "
                "check num_classes and the dataset's labels"
            )
    return target.long()
