"""pimm.core.logger: the run-logger contract and the set of loggers a training run writes to.

A logger component (``pimm list logger``) receives a run's start, one row per epoch and the end;
:class:`RunLoggers` creates the loggers a run asks for (``--log csv,tensorboard``), checks their
requirements before the run starts, and fans every call out to them. Importing this package does
not import torch.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "RunLogger": ".base",
    "CONSOLE_LOGGER": ".base",
    "csv_cell": ".base",
    "RunLoggers": ".run_loggers",
    "parse_logger_names": ".run_loggers",
    "check_requirements": ".run_loggers",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
