"""pimm.core.scheduler: the learning-rate scheduler contract and factory for every scheduler plugin.

A scheduler plugin subclasses :class:`Scheduler` (warmup, lr noise, per-epoch or per-update stepping
and checkpointing come with it) and implements the decay; :func:`create_scheduler_v2` builds any
registered scheduler from timm's arguments. Names are resolved lazily: importing this package does
not import torch.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY: dict[str, str] = {
    # public name -> submodule defining it
    "Scheduler": ".base",
    "cycle_position": ".base",
    "create_scheduler": ".factory",
    "create_scheduler_v2": ".factory",
    "scheduler_kwargs": ".factory",
    "schedule_length_for_total": ".factory",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
