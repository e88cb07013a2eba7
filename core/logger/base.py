"""The run-logger contract: what ``pimm train`` calls on every logger component."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["RunLogger", "CONSOLE_LOGGER", "csv_cell"]

#: The stdlib logger through which ``pimm train`` prints its own lines (the run header, notes,
#: results); a logger that records "everything printed" attaches a handler to it.
CONSOLE_LOGGER = "pimm.run"


class RunLogger:
    """Base class of run loggers; override what your logger records.

    The training app calls, on the main process only:

    1. :meth:`start` once, when the run directory exists (``resume_epoch`` > 0 when a run continues
       after that epoch: drop anything recorded for later epochs, so the record stays one history);
    2. :meth:`log_epoch` once per finished epoch, with the row metrics.csv gets (``epoch`` 1-based,
       ``train_loss``, ``train_top1``, ``val_loss``, ``val_top1``, ``val_top5``, ``lr``, timings;
       values not measured are None);
    3. :meth:`close` once at the end, whether the run finished, stopped early or failed
       (``error`` is the exception in the last case).
    """

    #: Set by :meth:`start`.
    run_dir: Path | None = None

    def start(self, run_dir: Path, config: dict[str, Any], resume_epoch: int = 0) -> None:
        """The run begins (or resumes after ``resume_epoch``) in ``run_dir`` with options ``config``."""
        self.run_dir = Path(run_dir)

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Record one finished epoch."""

    def close(self, error: BaseException | None = None) -> None:
        """Flush and release files; ``error`` is set when the run failed."""


def csv_cell(value: Any) -> Any:
    """A metric as a CSV cell: '' for None or NaN, floats to 6 significant digits, anything else as is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value
