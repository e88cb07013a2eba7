"""Cyclic schedules: cosine, tanh and polynomial decay with warmup and restarts.

Each cycle ``i`` lasts ``t_initial * cycle_mul**i`` and decays from ``base * cycle_decay**i`` to
``lr_min``; after ``cycle_limit`` cycles the lr stays at ``lr_min``.
"""

from __future__ import annotations

import math
from typing import Any

from pimm.core.errors import ConfigError
from pimm.core.scheduler import Scheduler, cycle_position

__all__ = ["CyclicScheduler", "CosineLRScheduler", "TanhLRScheduler", "PolyLRScheduler"]


class CyclicScheduler(Scheduler):
    """Shared cycle bookkeeping; subclasses give the shape of one cycle (``shape(fraction)`` in [0, 1])."""

    def __init__(self, optimizer: Any, t_initial: float, lr_min: float = 0.0, cycle_mul: float = 1.0,
                 cycle_decay: float = 1.0, cycle_limit: int = 1, **common: Any) -> None:
        if t_initial <= 0 or lr_min < 0 or cycle_mul <= 0 or cycle_limit < 1:
            raise ConfigError(f"{type(self).__name__}: need t_initial > 0, lr_min >= 0, cycle_mul > 0 and "
                              f"cycle_limit >= 1; got {t_initial}, {lr_min}, {cycle_mul}, {cycle_limit}")
        self.t_initial = t_initial
        self.lr_min = lr_min
        self.cycle_mul = cycle_mul
        self.cycle_decay = cycle_decay
        self.cycle_limit = cycle_limit
        super().__init__(optimizer, **common)

    def shape(self, t_curr: float, t_i: float) -> float:
        """Fraction of the way from the cycle's peak (1) down to lr_min (0) at ``t_curr`` of ``t_i``."""
        raise NotImplementedError

    def decayed(self, t: float) -> list[float]:
        """The lr of every group at post-warmup position ``t``."""
        i, t_i, t_curr = cycle_position(t, self.t_initial, self.cycle_mul)
        if i >= self.cycle_limit:
            return [self.lr_min for _ in self.base_values]
        factor = self.shape(t_curr, t_i)
        gamma = self.cycle_decay**i
        return [self.lr_min + (base * gamma - self.lr_min) * factor for base in self.base_values]

    def get_cycle_length(self, cycles: int = 0) -> float:
        """Length of ``cycles`` cycles (default: cycle_limit), plus the warmup when it is a prefix."""
        n = max(1, cycles or self.cycle_limit)
        if self.cycle_mul == 1:
            length: float = self.t_initial * n
        else:
            length = math.floor(self.t_initial * (self.cycle_mul**n - 1) / (self.cycle_mul - 1))
        return length + self.warmup_t if self.warmup_prefix else length


class CosineLRScheduler(CyclicScheduler):
    """Half a cosine per cycle: ``lr_min + (peak - lr_min) * (1 + cos(pi * t**k / t_i**k)) / 2``."""

    def __init__(self, optimizer: Any, t_initial: float, k_decay: float = 1.0, **options: Any) -> None:
        self.k_decay = k_decay
        super().__init__(optimizer, t_initial, **options)

    def shape(self, t_curr: float, t_i: float) -> float:
        k = self.k_decay
        return 0.5 * (1.0 + math.cos(math.pi * t_curr**k / t_i**k))


class TanhLRScheduler(CyclicScheduler):
    """``lr_min + (peak - lr_min) * (1 - tanh(lb + (ub - lb) * t/t_i)) / 2`` per cycle."""

    def __init__(self, optimizer: Any, t_initial: float, lb: float = -7.0, ub: float = 3.0, **options: Any) -> None:
        if not lb < ub:
            raise ConfigError(f"TanhLRScheduler needs lb < ub, got lb={lb}, ub={ub}")
        self.lb = lb
        self.ub = ub
        super().__init__(optimizer, t_initial, **options)

    def shape(self, t_curr: float, t_i: float) -> float:
        frac = t_curr / t_i
        return 0.5 * (1.0 - math.tanh(self.lb * (1.0 - frac) + self.ub * frac))


class PolyLRScheduler(CyclicScheduler):
    """``lr_min + (peak - lr_min) * (1 - t**k / t_i**k) ** power`` per cycle."""

    def __init__(self, optimizer: Any, t_initial: float, power: float = 0.5, k_decay: float = 1.0,
                 **options: Any) -> None:
        self.power = power
        self.k_decay = k_decay
        super().__init__(optimizer, t_initial, **options)

    def shape(self, t_curr: float, t_i: float) -> float:
        k = self.k_decay
        return (1.0 - t_curr**k / t_i**k) ** self.power
