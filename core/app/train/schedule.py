"""Learning-rate schedules: cosine, step and constant, each with a linear warmup.

A schedule is a pure function of the position in training (epoch + fraction of the epoch), so
resuming needs nothing but that position; ``state_dict`` stores it anyway, as torch schedulers
do. Every parameter group keeps its own base lr (layer-wise decay scales are relative to it).
With ``on_updates`` the lr changes every optimizer step, otherwise once per epoch.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["LRSchedule", "create_schedule"]


class LRSchedule:
    """Sets each group's ``lr`` to ``base_lr * factor(t)`` where t is the training position in epochs."""

    def __init__(self, optimizer: Any, kind: str, epochs: int, steps_per_epoch: int, warmup_epochs: float = 0.0,
                 warmup_lr: float = 1e-5, min_lr: float = 0.0, decay_epochs: float = 30.0,
                 decay_rate: float = 0.1, on_updates: bool = True) -> None:
        if kind not in ("cosine", "step", "constant"):
            from ...errors import ConfigError

            raise ConfigError(f"unknown lr schedule {kind!r}; use cosine, step or constant")
        self.optimizer = optimizer
        self.kind = kind
        self.epochs = epochs
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.warmup_epochs = warmup_epochs
        self.warmup_lr = warmup_lr
        self.min_lr = min_lr
        self.decay_epochs = decay_epochs
        self.decay_rate = decay_rate
        self.on_updates = on_updates
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.position = 0.0
        self.set_position(0.0)

    def lr_at(self, base_lr: float, t: float) -> float:
        """The lr of a group with ``base_lr`` at training position ``t`` (epochs)."""
        if not self.on_updates:
            t = math.floor(t)
        if t < self.warmup_epochs:
            return self.warmup_lr + (base_lr - self.warmup_lr) * t / self.warmup_epochs
        if self.kind == "constant":
            return base_lr
        if self.kind == "step":
            return base_lr * self.decay_rate ** math.floor(t / self.decay_epochs)
        span = max(self.epochs - self.warmup_epochs, 1e-8)
        progress = min(max((t - self.warmup_epochs) / span, 0.0), 1.0)
        low = min(self.min_lr, base_lr)
        return low + 0.5 * (base_lr - low) * (1.0 + math.cos(math.pi * progress))

    def set_position(self, t: float) -> None:
        """Move to position ``t`` (epochs, fractional) and set every group's lr."""
        self.position = t
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, t)

    def step_update(self, epoch: int, step_in_epoch: int) -> None:
        """Call after optimizer step ``step_in_epoch`` (1-based) of ``epoch``."""
        self.set_position(epoch + step_in_epoch / self.steps_per_epoch)

    def current_lr(self) -> float:
        """The lr of the first parameter group (the unscaled one for layer decay)."""
        return max(group["lr"] for group in self.optimizer.param_groups)

    def state_dict(self) -> dict[str, Any]:
        """Position and base lrs."""
        return {"position": self.position, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.base_lrs = list(state["base_lrs"])
        self.set_position(float(state["position"]))


def create_schedule(optimizer: Any, cfg: Any, steps_per_epoch: int) -> LRSchedule:
    """The schedule a :class:`~pimm.core.app.train.config.TrainConfig` asks for."""
    return LRSchedule(optimizer, cfg.sched, cfg.epochs, steps_per_epoch, warmup_epochs=cfg.warmup_epochs,
                      warmup_lr=cfg.warmup_lr, min_lr=cfg.min_lr, decay_epochs=cfg.decay_epochs,
                      decay_rate=cfg.decay_rate, on_updates=cfg.sched_on_updates)
