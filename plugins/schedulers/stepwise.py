"""Piecewise-constant schedules: step, multistep and constant, each after an optional warmup."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from pimm.core.errors import ConfigError
from pimm.core.scheduler import Scheduler

__all__ = ["StepLRScheduler", "MultiStepLRScheduler", "ConstantLRScheduler"]


class StepLRScheduler(Scheduler):
    """``base * decay_rate ** floor(t / decay_t)`` after the warmup (which is a prefix by default)."""

    def __init__(self, optimizer: Any, decay_t: float, decay_rate: float = 1.0, warmup_prefix: bool = True,
                 **common: Any) -> None:
        if decay_t <= 0:
            raise ConfigError(f"StepLRScheduler needs decay_t > 0, got {decay_t}")
        self.decay_t = decay_t
        self.decay_rate = decay_rate
        super().__init__(optimizer, warmup_prefix=warmup_prefix, **common)

    def decayed(self, t: float) -> list[float]:
        """The lr of every group at post-warmup position ``t``."""
        factor = self.decay_rate ** (t // self.decay_t)
        return [base * factor for base in self.base_values]


class MultiStepLRScheduler(Scheduler):
    """``base * decay_rate ** (milestones passed)``; milestone ``m`` acts from ``t = m - 1`` on.

    The one-early milestone is timm's long-standing convention (torch's MultiStepLR acts at ``t = m``);
    pimm keeps timm's numbers so a timm recipe gives the same lr table.
    """

    def __init__(self, optimizer: Any, decay_t: Sequence[float], decay_rate: float = 1.0, warmup_prefix: bool = True,
                 **common: Any) -> None:
        milestones = list(decay_t)
        if milestones != sorted(milestones):
            raise ConfigError(f"MultiStepLRScheduler milestones must be increasing, got {milestones}")
        self.decay_t = milestones
        self.decay_rate = decay_rate
        super().__init__(optimizer, warmup_prefix=warmup_prefix, **common)

    def decayed(self, t: float) -> list[float]:
        """The lr of every group at post-warmup position ``t``."""
        passed = bisect.bisect_right(self.decay_t, t + 1)
        return [base * self.decay_rate**passed for base in self.base_values]


class ConstantLRScheduler(Scheduler):
    """The base lr, after the warmup."""

    def decayed(self, t: float) -> list[float]:
        """Every group's base lr."""
        return list(self.base_values)
