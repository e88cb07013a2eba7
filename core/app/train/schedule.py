"""The run's learning-rate schedule: any registered scheduler component, driven by the training loop.

:func:`create_schedule` builds the scheduler named by ``--sched`` through
:func:`pimm.core.scheduler.create_scheduler_v2` and wraps it in :class:`RunSchedule`, the small
interface the loop and the session use: ``step_update(epoch, step)`` after each optimizer update,
``set_position(epochs_done)`` after each epoch, ``after_validation`` for schedulers that need the
validation metric (plateau), ``current_lr`` and checkpoint state.

pimm's ``--epochs`` is the whole run: the schedule's length is derived from it so that every
cycle, the cooldown and a prefix warmup fit inside (timm adds them on top of ``--epochs``).
"""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError

__all__ = ["RunSchedule", "create_schedule"]


class RunSchedule:
    """Adapts a scheduler component to the training loop's calls."""

    def __init__(self, scheduler: Any, steps_per_epoch: int, needs_metric: bool) -> None:
        self.scheduler = scheduler
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.needs_metric = needs_metric
        self.on_updates = not getattr(scheduler, "t_in_epochs", True)

    def step_update(self, epoch: int, step_in_epoch: int) -> None:
        """After optimizer update ``step_in_epoch`` (1-based) of ``epoch`` (0-based)."""
        self.scheduler.step_update(epoch * self.steps_per_epoch + step_in_epoch)

    def set_position(self, epochs_done: int) -> None:
        """After an epoch's training; schedulers that wait for the validation metric step later."""
        if not self.needs_metric:
            self.scheduler.step(int(epochs_done))

    def after_validation(self, epochs_done: int, metric: float | None) -> None:
        """After an epoch's validation: metric-driven schedulers step now."""
        if self.needs_metric:
            self.scheduler.step(int(epochs_done), metric)

    def current_lr(self) -> float:
        """The largest lr over the parameter groups (the unscaled one under layer decay)."""
        return max(float(group["lr"]) for group in self.scheduler.optimizer.param_groups)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's own state."""
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s result."""
        self.scheduler.load_state_dict(state)


def create_schedule(optimizer: Any, cfg: Any, steps_per_epoch: int) -> RunSchedule:
    """The schedule a :class:`~pimm.core.app.train.config.TrainConfig` asks for."""
    from ...factory import get_spec
    from ...scheduler import create_scheduler_v2, schedule_length_for_total, scheduler_kwargs

    spec = get_spec("scheduler", cfg.sched)
    kwargs = scheduler_kwargs(cfg)
    length = schedule_length_for_total(
        cfg.epochs, cooldown_epochs=cfg.cooldown_epochs, warmup_epochs=cfg.warmup_epochs,
        warmup_prefix=cfg.warmup_prefix, cyclic=getattr(spec, "cyclic", False), cycle_mul=cfg.lr_cycle_mul,
        cycle_limit=cfg.lr_cycle_limit)
    kwargs["num_epochs"] = length
    if getattr(spec, "needs_metric", False) and cfg.val_split is None:
        raise ConfigError(f"--sched {cfg.sched} steps on the validation metric, but this run has no validation "
                          "split; give --val-split or pick another schedule")
    scheduler, _ = create_scheduler_v2(optimizer, **kwargs, updates_per_epoch=steps_per_epoch)
    return RunSchedule(scheduler, steps_per_epoch, bool(getattr(spec, "needs_metric", False)))
