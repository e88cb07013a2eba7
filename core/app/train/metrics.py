"""Running averages, top-k accuracy and the per-run metrics file (``metrics.csv``).

The metrics file has one row per epoch with the columns of :data:`COLUMNS`; empty cells mean the
value was not measured (no validation split). On resume the rows after the resumed epoch are
dropped, so the file always describes one consistent run.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from ...logger.base import csv_cell as _cell

__all__ = ["COLUMNS", "Average", "topk_correct", "MetricsFile", "read_metrics"]

COLUMNS: tuple[str, ...] = ("epoch", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr",
                            "train_img_s", "epoch_time_s", "elapsed_s")


class Average:
    """A weighted running mean."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update(self, value: float, n: float = 1.0) -> None:
        """Add ``value`` with weight ``n``."""
        self.total += value * n
        self.count += n

    @property
    def mean(self) -> float:
        """The mean so far (nan before the first update)."""
        return self.total / self.count if self.count else math.nan


def topk_correct(logits: Any, target: Any, ks: tuple[int, ...] = (1, 5)) -> list[int]:
    """How many rows of ``logits`` have ``target`` among their top-k classes, for each k (k capped at C)."""
    maxk = min(max(ks), logits.shape[-1])
    top = logits.topk(maxk, dim=-1).indices
    hits = top.eq(target.view(-1, 1))
    return [int(hits[:, : min(k, maxk)].any(dim=1).sum()) for k in ks] if top.numel() else [0 for _ in ks]


class MetricsFile:
    """Appends epoch rows to ``<run>/metrics.csv``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def truncate_after(self, epoch: int) -> None:
        """Keep only rows with ``epoch`` <= the given one (used on resume)."""
        rows = [r for r in read_metrics(self.path) if int(r["epoch"]) <= epoch]
        self._write(rows)

    def append(self, row: dict[str, Any]) -> None:
        """Add one epoch's row (unknown keys are errors; missing ones stay empty)."""
        extra = set(row) - set(COLUMNS)
        if extra:
            raise ValueError(f"unknown metrics columns {sorted(extra)}")
        new = not self.path.is_file()
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow({k: _cell(row.get(k)) for k in COLUMNS})

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            for r in rows:
                writer.writerow({k: r.get(k, "") for k in COLUMNS})


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a metrics file as dicts (numbers as floats, empty cells as None)."""
    file = Path(path)
    if not file.is_file():
        return []
    with file.open(newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        out.append({k: (float(v) if v not in ("", None) else None) for k, v in r.items()})
    return out
