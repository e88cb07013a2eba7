"""Plateau schedule: decay the lr when the validation metric stops improving.

The decision itself is torch's ``ReduceLROnPlateau``; this wraps it in the scheduler contract with a
warmup and lr noise, and (unlike timm, whose plateau state is lost on resume) saves its whole state.
"""

from __future__ import annotations

from typing import Any

import torch

from pimm.core.errors import ConfigError
from pimm.core.scheduler import Scheduler

__all__ = ["PlateauLRScheduler"]


class PlateauLRScheduler(Scheduler):
    """Multiply every group's lr by ``decay_rate`` after ``patience_t`` epochs without improvement."""

    needs_metric = True

    def __init__(self, optimizer: Any, decay_rate: float = 0.1, patience_t: int = 10, threshold: float = 1e-4,
                 cooldown_t: int = 0, lr_min: float = 0.0, mode: str = "max", **common: Any) -> None:
        if not common.get("t_in_epochs", True):
            raise ConfigError("the plateau scheduler steps once per epoch, on the validation metric; "
                              "drop --sched-on-updates")
        common.pop("warmup_prefix", None)  # the warmup always precedes the plateau logic
        super().__init__(optimizer, **common)
        self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=mode, factor=decay_rate, patience=patience_t, threshold=threshold, cooldown=cooldown_t,
            min_lr=lr_min)
        self.pre_noise: list[float] | None = None

    def decayed(self, t: float) -> list[float]:
        """The lr now in the optimizer (the plateau logic, not t, decides it)."""
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    def step(self, epoch: int, metric: float | None = None) -> None:
        """After epoch ``epoch`` with its validation ``metric``: warm up, or let the plateau logic decide."""
        self.last_t = epoch
        if epoch <= self.warmup_t:
            # the warmup reaches the base lr at epoch == warmup_t (timm's rule for this schedule)
            steps = [(base - self.warmup_lr_init) / self.warmup_t if self.warmup_t else 0.0 for base in self.base_values]
            self._set_groups([self.warmup_lr_init + epoch * s for s in steps] if self.warmup_t else self.base_values)
            return
        if self.pre_noise is not None:
            self._set_groups(self.pre_noise)
            self.pre_noise = None
        if metric is not None:
            self.plateau.step(metric)
        if self.noise_active(epoch):
            self.pre_noise = [float(group["lr"]) for group in self.optimizer.param_groups]
            noise = self.noise_at(epoch)
            self._set_groups([lr * (1.0 + noise) for lr in self.pre_noise])

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        """Nothing: the plateau schedule moves once per epoch."""

    def state_dict(self) -> dict[str, Any]:
        """Warmup/noise settings plus torch's plateau state (best metric, counters)."""
        state = {k: v for k, v in vars(self).items() if k not in ("optimizer", "plateau", "pimm_origin")}
        state["plateau"] = self.plateau.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s result; the optimizer's own state carries the current lr."""
        state = dict(state)
        plateau = state.pop("plateau", None)
        unknown = set(state) - set(vars(self)) - {"pimm_origin"}
        if unknown or plateau is None:
            raise ConfigError("scheduler state was not saved by the plateau scheduler; resume with the run's own "
                              "--sched")
        vars(self).update(state)
        self.plateau.load_state_dict(plateau)
