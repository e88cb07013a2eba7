"""Early stopping: stop when the validation metric has not improved for ``patience`` epochs."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Tracks the best metric; an epoch improves it only by more than ``min_delta``."""

    def __init__(self, patience: int, min_delta: float = 0.0, lower_is_better: bool = False) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.lower_is_better = lower_is_better
        self.best: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0

    def improves(self, value: float) -> bool:
        """True when ``value`` beats the best so far by more than ``min_delta``."""
        if self.best is None:
            return True
        if self.lower_is_better:
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, epoch: int, value: float) -> str | None:
        """Record epoch ``epoch``'s metric; return why to stop, or None to go on."""
        if self.improves(value):
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            return None
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            return (f"did not improve by more than {self.min_delta:g} for {self.bad_epochs} epochs "
                    f"(best {self.best:.4g} at epoch {self.best_epoch})")
        return None

    def replay(self, metrics_csv: Path, column: str, upto_epoch: int) -> None:
        """Rebuild the counters from a resumed run's metrics file (epochs 1..upto_epoch)."""
        if not metrics_csv.is_file():
            return
        with metrics_csv.open(newline="") as f:
            for row in csv.DictReader(f):
                try:
                    epoch, value = int(float(row["epoch"])), float(row[column])
                except (KeyError, TypeError, ValueError):
                    continue
                if epoch <= upto_epoch:
                    self.update(epoch, value)
