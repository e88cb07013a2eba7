"""The scheduler contract: what every learning-rate scheduler component is and gets for free.

A scheduler sets each optimizer parameter group's ``lr`` from the position in training, ``t``,
counted in epochs (``t_in_epochs=True``, stepped by :meth:`Scheduler.step` after each epoch) or in
optimizer updates (stepped by :meth:`Scheduler.step_update` after each update). The base class
holds what all schedules share, with timm's semantics:

* each group's *base* lr is its ``initial_lr`` (set from ``lr`` when the scheduler is created);
  pimm's ``create_optimizer`` has already folded layer-wise ``lr_scale`` into ``lr``, so it is
  not applied a second time;
* linear warmup from ``warmup_lr_init`` over ``warmup_t``; with ``warmup_prefix`` the decay
  starts counting after the warmup, otherwise the warmup overlaps the decay's start;
* lr noise: inside ``noise_range_t`` each lr is multiplied by ``1 + n``, with ``n`` a draw from a
  generator seeded with ``noise_seed + t`` (normal with ``noise_std``, redrawn until
  ``|n| < noise_pct``; or uniform in ``±noise_pct``), so a resumed run sees the same noise.

Subclasses implement :meth:`Scheduler.decayed` (the lr of every group at a post-warmup position).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from ..errors import ConfigError

__all__ = ["Scheduler", "cycle_position"]

NoiseRange = float | int | Sequence[float] | None


class Scheduler:
    """Base class of lr schedulers: warmup, noise, stepping, checkpoint state."""

    #: True for schedulers whose :meth:`step` needs the latest validation metric.
    needs_metric: bool = False

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        t_in_epochs: bool = True,
        warmup_t: float = 0,
        warmup_lr_init: float = 0.0,
        warmup_prefix: bool = False,
        noise_range_t: NoiseRange = None,
        noise_type: str = "normal",
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int = 42,
    ) -> None:
        if not hasattr(optimizer, "param_groups"):
            raise ConfigError(f"a scheduler needs a torch optimizer, got {type(optimizer).__name__}")
        if warmup_t < 0 or warmup_lr_init < 0:
            raise ConfigError(f"warmup_t and warmup_lr_init must be >= 0, got {warmup_t} and {warmup_lr_init}")
        if noise_type not in ("normal", "uniform"):
            raise ConfigError(f"noise_type must be 'normal' or 'uniform', got {noise_type!r}")
        self.optimizer = optimizer
        self.t_in_epochs = t_in_epochs
        self.warmup_t = warmup_t
        self.warmup_lr_init = warmup_lr_init
        self.warmup_prefix = warmup_prefix
        self.noise_range_t = noise_range_t
        self.noise_type = noise_type
        self.noise_pct = noise_pct
        self.noise_std = noise_std
        self.noise_seed = noise_seed
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_values: list[float] = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_t: float | None = None
        if warmup_t:
            self._set_groups([warmup_lr_init] * len(self.base_values))

    # -- the schedule --------------------------------------------------------------------------
    def decayed(self, t: float) -> list[float]:
        """The lr of every group at post-warmup position ``t`` (warmup prefix already removed)."""
        raise NotImplementedError(f"{type(self).__name__} must implement decayed(t)")

    def lr_values(self, t: float) -> list[float]:
        """The lr of every group at position ``t``, warmup included, noise excluded."""
        if t < self.warmup_t:
            return [self.warmup_lr_init + t * (base - self.warmup_lr_init) / self.warmup_t for base in self.base_values]
        return self.decayed(t - self.warmup_t if self.warmup_prefix else t)

    def get_cycle_length(self, cycles: int = 0) -> float | None:
        """Length of the schedule in its own units (cyclic schedulers), else None."""
        return None

    # -- noise ---------------------------------------------------------------------------------
    def noise_active(self, t: float) -> bool:
        """True when ``t`` lies inside ``noise_range_t`` (``[a, b)``, or ``>= a`` for a single number)."""
        span = self.noise_range_t
        if span is None:
            return False
        if isinstance(span, (list, tuple)):
            return span[0] <= t < span[1]
        return t >= span

    def noise_at(self, t: float) -> float:
        """The relative noise at ``t``; the same ``t`` always gives the same value."""
        gen = torch.Generator()
        # seeding with seed + t and drawing one number at a time is timm's order of draws (kept for parity)
        gen.manual_seed(int(self.noise_seed + t))
        if self.noise_type == "uniform":
            return 2.0 * (torch.rand(1, generator=gen).item() - 0.5) * self.noise_pct
        if self.noise_pct <= 0:
            return 0.0
        while True:
            value = torch.randn(1, generator=gen).item() * self.noise_std
            if abs(value) < self.noise_pct:
                return value

    def _with_noise(self, values: list[float], t: float) -> list[float]:
        if not self.noise_active(t):
            return values
        noise = self.noise_at(t)
        return [v * (1.0 + noise) for v in values]

    # -- stepping ------------------------------------------------------------------------------
    def _set_groups(self, values: Sequence[float]) -> None:
        for group, value in zip(self.optimizer.param_groups, values):
            group["lr"] = value

    def step(self, epoch: int, metric: float | None = None) -> None:
        """Call after each epoch with the number of epochs done; acts when ``t_in_epochs``."""
        if self.t_in_epochs:
            self._apply(epoch)

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        """Call after each optimizer update with the updates done so far; acts unless ``t_in_epochs``."""
        if not self.t_in_epochs:
            self._apply(num_updates)

    def _apply(self, t: float) -> None:
        self.last_t = t
        self._set_groups(self._with_noise(self.lr_values(t), t))

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (plain data, safe for ``torch.load(weights_only=True)``)."""
        return {k: v for k, v in vars(self).items() if k not in ("optimizer", "pimm_origin")}  # origin: not plain data

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned and re-apply the lr of the last position."""
        unknown = set(state) - set(vars(self))
        if unknown:
            raise ConfigError(
                f"scheduler state has keys {sorted(unknown)} that {type(self).__name__} does not know: it was "
                "saved by another scheduler; resume with the run's own --sched"
            )
        vars(self).update(state)
        if self.last_t is not None:
            self._apply(self.last_t)

    def __repr__(self) -> str:
        unit = "epochs" if self.t_in_epochs else "updates"
        return f"{type(self).__name__}(t in {unit}, base lrs {self.base_values})"


def cycle_position(t: float, t_initial: float, cycle_mul: float) -> tuple[int, float, float]:
    """``(cycle index i, cycle length t_i, position inside the cycle)`` of ``t`` for cycles of length
    ``t_initial``, each ``cycle_mul`` times longer than the one before."""
    if cycle_mul == 1:
        i = int(t // t_initial)
        return i, t_initial, t - t_initial * i
    i = math.floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))
    t_i = cycle_mul**i * t_initial
    start = (1 - cycle_mul**i) / (1 - cycle_mul) * t_initial
    return i, t_i, t - start
