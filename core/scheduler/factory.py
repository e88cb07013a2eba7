"""Build any registered scheduler from timm's scheduler arguments.

:func:`create_scheduler_v2` takes timm's arguments (epochs, warmup, cooldown, decay, cycles, noise,
``step_on_epochs``), converts every length to the scheduler's unit (epochs, or optimizer updates
when stepping per update) and passes each registered scheduler the standard options its options
model declares: ``t_initial``, ``lr_min``, ``warmup_t``, ``warmup_lr_init``, ``warmup_prefix``,
``t_in_epochs``, ``decay_t``, ``decay_rate``, ``cycle_mul``, ``cycle_decay``, ``cycle_limit``,
``k_decay``, ``patience_t``, ``mode``, ``noise_range_t``, ``noise_pct``, ``noise_std``,
``noise_seed`` (``power`` gets ``decay_rate``, as in timm). So a third-party scheduler that names its
options like the builtins gets every ``pimm train`` flag for free.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError
from ..factory import create, resolve
from ..specs import SchedulerSpec

__all__ = ["create_scheduler_v2", "create_scheduler", "scheduler_kwargs", "schedule_length_for_total"]


def _is_sequence_field(options: Any, name: str) -> bool:
    field = options.model_fields.get(name)
    if field is None:
        return False
    origins = {typing.get_origin(a) for a in typing.get_args(field.annotation)} | {typing.get_origin(field.annotation)}
    return bool(origins & {tuple, list, Sequence})


def _noise_range(noise: float | Sequence[float] | None, length: float) -> Any:
    if noise is None:
        return None
    if isinstance(noise, (list, tuple)):
        if not 1 <= len(noise) <= 2:
            raise ConfigError(f"lr noise takes one or two fractions of the schedule (start [end]), got {list(noise)}")
        span = [n * length for n in noise]
        return span[0] if len(span) == 1 else tuple(span)
    return noise * length


def create_scheduler_v2(
    optimizer: Any,
    sched: str = "cosine",
    num_epochs: float = 300,
    decay_epochs: float = 90,
    decay_milestones: Sequence[float] = (90, 180, 270),
    cooldown_epochs: float = 0,
    patience_epochs: int = 10,
    decay_rate: float = 0.1,
    min_lr: float = 0.0,
    warmup_lr: float = 1e-5,
    warmup_epochs: float = 0,
    warmup_prefix: bool = False,
    noise: float | Sequence[float] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    cycle_mul: float = 1.0,
    cycle_decay: float = 0.1,
    cycle_limit: int = 1,
    k_decay: float = 1.0,
    plateau_mode: str = "max",
    step_on_epochs: bool = True,
    updates_per_epoch: int = 0,
    **options: Any,
) -> tuple[Any, float]:
    """Create the registered scheduler ``sched`` with timm's arguments; return ``(scheduler, epochs)``.

    ``num_epochs`` is the schedule's length (one cycle for cyclic schedules); the returned ``epochs``
    is how long to train: all cycles plus ``cooldown_epochs`` (plus the warmup when it is a prefix),
    as in timm. ``options`` are further options of that scheduler, passed as given. With
    ``step_on_epochs=False`` every length is multiplied by ``updates_per_epoch``.
    """
    entry = resolve("scheduler", sched)
    spec = entry.spec
    if not isinstance(spec, SchedulerSpec):  # pragma: no cover - the registry guarantees the kind
        raise ConfigError(f"{sched!r} is not a scheduler")
    unit = 1
    if not step_on_epochs:
        if spec.needs_metric:
            raise ConfigError(f"scheduler {entry.name!r} steps once per epoch on the validation metric; it cannot "
                              "step per update (drop --sched-on-updates)")
        if updates_per_epoch <= 0:
            raise ConfigError("stepping per update needs updates_per_epoch > 0 (the optimizer updates in one epoch)")
        unit = updates_per_epoch
    t_initial = num_epochs * unit
    standard: dict[str, Any] = {
        "t_in_epochs": step_on_epochs,
        "t_initial": t_initial,
        "lr_min": min_lr,
        "warmup_t": warmup_epochs * unit,
        "warmup_lr_init": warmup_lr,
        "warmup_prefix": warmup_prefix,
        "decay_rate": decay_rate,
        "power": decay_rate,
        "cycle_mul": cycle_mul,
        "cycle_decay": cycle_decay,
        "cycle_limit": cycle_limit,
        "k_decay": k_decay,
        "patience_t": patience_epochs,
        "mode": plateau_mode,
        "noise_range_t": _noise_range(noise, t_initial),
        "noise_pct": noise_pct,
        "noise_std": noise_std,
        "noise_seed": noise_seed,
    }
    fields = spec.options.model_fields
    if "decay_t" in fields:
        if _is_sequence_field(spec.options, "decay_t"):
            standard["decay_t"] = tuple(m * unit for m in decay_milestones)
        else:
            standard["decay_t"] = decay_epochs * unit
    chosen = {k: v for k, v in standard.items() if k in fields}
    chosen.update(options)
    scheduler = create("scheduler", entry.qualified_name, optimizer, **chosen)
    cycle = scheduler.get_cycle_length() if hasattr(scheduler, "get_cycle_length") else None
    if cycle is not None:
        total = (cycle + cooldown_epochs * unit) / unit
    else:
        total = num_epochs + (warmup_epochs if warmup_prefix else 0)
    return scheduler, total


def schedule_length_for_total(total_epochs: float, *, cooldown_epochs: float = 0, warmup_epochs: float = 0,
                              warmup_prefix: bool = False, cyclic: bool = True, cycle_mul: float = 1.0,
                              cycle_limit: int = 1) -> float:
    """The ``num_epochs`` to give :func:`create_scheduler_v2` so a run of ``total_epochs`` fits exactly.

    pimm's ``--epochs`` is the whole run (cooldown and a prefix warmup included, every cycle
    included); timm's is the length of one cycle. This converts the first into the second.
    """
    length = total_epochs - cooldown_epochs - (warmup_epochs if warmup_prefix else 0)
    if length <= 0:
        raise ConfigError(
            f"--epochs {total_epochs} leaves no room for the schedule after --cooldown-epochs {cooldown_epochs}"
            + (f" and a --warmup-prefix of {warmup_epochs} epochs" if warmup_prefix else "")
            + "; raise --epochs or shorten them"
        )
    if not cyclic or cycle_limit <= 1:
        return length
    if cycle_mul == 1:
        return length / cycle_limit
    return length * (cycle_mul - 1) / (cycle_mul**cycle_limit - 1)


def scheduler_kwargs(cfg: Any, decreasing_metric: bool | None = None) -> dict[str, Any]:
    """:func:`create_scheduler_v2` keyword arguments from an object with timm's train.py option names."""
    metric = getattr(cfg, "eval_metric", "top1")
    if decreasing_metric is None:
        decreasing_metric = "loss" in str(metric)
    return {
        "sched": getattr(cfg, "sched", "cosine"),
        "num_epochs": getattr(cfg, "epochs", 100),
        "decay_epochs": getattr(cfg, "decay_epochs", 90),
        "decay_milestones": getattr(cfg, "decay_milestones", (90, 180, 270)),
        "warmup_epochs": getattr(cfg, "warmup_epochs", 5),
        "cooldown_epochs": getattr(cfg, "cooldown_epochs", 0),
        "patience_epochs": getattr(cfg, "patience_epochs", 10),
        "decay_rate": getattr(cfg, "decay_rate", 0.1),
        "min_lr": getattr(cfg, "min_lr", 0.0),
        "warmup_lr": getattr(cfg, "warmup_lr", 1e-5),
        "warmup_prefix": getattr(cfg, "warmup_prefix", False),
        "noise": getattr(cfg, "lr_noise", None),
        "noise_pct": getattr(cfg, "lr_noise_pct", 0.67),
        "noise_std": getattr(cfg, "lr_noise_std", 1.0),
        "noise_seed": getattr(cfg, "seed", 42),
        "cycle_mul": getattr(cfg, "lr_cycle_mul", 1.0),
        "cycle_decay": getattr(cfg, "lr_cycle_decay", 0.1),
        "cycle_limit": getattr(cfg, "lr_cycle_limit", 1),
        "k_decay": getattr(cfg, "lr_k_decay", 1.0),
        "plateau_mode": "min" if decreasing_metric else "max",
        "step_on_epochs": not getattr(cfg, "sched_on_updates", False),
    }


def create_scheduler(args: Any, optimizer: Any, updates_per_epoch: int = 0) -> tuple[Any, float]:
    """timm's ``create_scheduler(args, optimizer, updates_per_epoch)``: :func:`scheduler_kwargs` then v2."""
    return create_scheduler_v2(optimizer, **scheduler_kwargs(args), updates_per_epoch=updates_per_epoch)
