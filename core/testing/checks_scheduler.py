"""Conformance checks for scheduler components, built the way ``pimm train`` builds them.

Each scheduler is created through :func:`pimm.core.scheduler.create_scheduler_v2` (so the standard
options must mean what the builtins' options mean) on a small SGD optimizer with two parameter
groups, then stepped like a run: per epoch (with the metric when ``needs_metric``) or per update.
"""

from __future__ import annotations

import math
from typing import Any

from .kit import ComponentRef, check, skip

_BASE = (0.1, 0.4)


def _optimizer():
    import torch

    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in _BASE]
    return torch.optim.SGD(groups, lr=_BASE[0])


def _build(component: ComponentRef, **kwargs: Any) -> Any:
    from ..scheduler import create_scheduler_v2

    options = dict(num_epochs=10, decay_epochs=3, decay_milestones=(3, 6), warmup_epochs=0, min_lr=0.0)
    options.update(kwargs)
    scheduler, _ = create_scheduler_v2(_optimizer(), component.qualified_name, **options)
    return scheduler


def _metric_for(component: ComponentRef, t: int) -> float | None:
    return 50.0 if getattr(component.spec, "needs_metric", False) else None


def _lrs(scheduler: Any) -> list[float]:
    return [float(g["lr"]) for g in scheduler.optimizer.param_groups]


def _run_epochs(component: ComponentRef, scheduler: Any, epochs: range) -> list[list[float]]:
    out = []
    for t in epochs:
        scheduler.step(t, _metric_for(component, t))
        out.append(_lrs(scheduler))
    return out


@check("scheduler")
def check_scheduler_contract(component: ComponentRef) -> None:
    """step/step_update/state_dict/load_state_dict exist; every lr stays finite and >= 0 over a run."""
    scheduler = _build(component)
    for name in ("step", "step_update", "state_dict", "load_state_dict", "optimizer"):
        if not hasattr(scheduler, name):
            raise AssertionError(f"scheduler has no {name!r} (see pimm.core.scheduler.Scheduler)")
    for t, lrs in enumerate(_run_epochs(component, scheduler, range(14))):
        if not all(math.isfinite(v) and v >= 0 for v in lrs):
            raise AssertionError(f"epoch {t}: lrs {lrs} must be finite and >= 0")


@check("scheduler")
def check_scheduler_groups_keep_their_own_base(component: ComponentRef) -> None:
    """Without warmup and with min_lr 0, every group's lr stays proportional to its own base lr."""
    for t, (a, b) in enumerate(_run_epochs(component, _build(component), range(12))):
        if abs(b - a * _BASE[1] / _BASE[0]) > 1e-9 * max(1.0, b):
            raise AssertionError(f"epoch {t}: group lrs {a}, {b} lost the base ratio {_BASE[1] / _BASE[0]}")


@check("scheduler")
def check_scheduler_warmup_starts_at_warmup_lr(component: ComponentRef) -> None:
    """With --warmup-epochs 3 --warmup-lr 1e-4 the first epoch's lr is 1e-4 and the warmup rises."""
    if "warmup_t" not in component.spec.options.model_fields:
        skip("the scheduler has no warmup_t option")
    scheduler = _build(component, warmup_epochs=3, warmup_lr=1e-4)
    lrs = _run_epochs(component, scheduler, range(3))
    if abs(lrs[0][0] - 1e-4) > 1e-12:
        raise AssertionError(f"lr at epoch 0 is {lrs[0][0]}, expected the warmup lr 1e-4")
    if not lrs[0][0] < lrs[1][0] < lrs[2][0]:
        raise AssertionError(f"the warmup must rise: {[row[0] for row in lrs]}")


@check("scheduler")
def check_scheduler_state_resumes_the_same_lrs(component: ComponentRef) -> None:
    """state_dict after 5 epochs, loaded into a fresh scheduler (through torch.save/load with
    weights_only=True, as a run's state.pt), gives the same lrs from then on."""
    import io

    import torch

    first = _build(component)
    _run_epochs(component, first, range(6))
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    second = _build(component)
    second.optimizer.load_state_dict(first.optimizer.state_dict())
    second.load_state_dict(state)
    a = _run_epochs(component, first, range(6, 10))
    b = _run_epochs(component, second, range(6, 10))
    if a != b:
        raise AssertionError(f"after a resume the lrs differ: {a} vs {b}")


@check("scheduler")
def check_scheduler_per_update_stepping(component: ComponentRef) -> None:
    """Stepping per update (with a one-epoch warmup): epoch steps leave the lr alone, update steps move it."""
    if getattr(component.spec, "needs_metric", False) or "t_in_epochs" not in component.spec.options.model_fields:
        skip("the scheduler steps per epoch only")
    scheduler = _build(component, step_on_epochs=False, updates_per_epoch=4, num_epochs=3, decay_epochs=1,
                       decay_milestones=(1, 2), warmup_epochs=1, warmup_lr=1e-4)
    before = _lrs(scheduler)
    scheduler.step(2)
    if _lrs(scheduler) != before:
        raise AssertionError("step(epoch) changed the lr of a per-update scheduler")
    seen = set()
    for update in range(13):
        scheduler.step_update(update)
        seen.add(round(_lrs(scheduler)[0], 12))
    if len(seen) < 2:
        raise AssertionError("step_update never changed the lr over 3 epochs of 4 updates")
