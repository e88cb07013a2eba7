"""The example plugin's training parts: a linear lr schedule, a focal loss and a Markdown results logger.

Each one uses only pimm's public framework: the scheduler subclasses ``pimm.core.scheduler.Scheduler``
(warmup, noise and per-update stepping come with it), the logger subclasses
``pimm.core.logger.RunLogger``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pimm.core.logger import RunLogger
from pimm.core.scheduler import Scheduler


class LinearLRScheduler(Scheduler):
    """The lr falls in a straight line from each group's base lr to ``lr_min`` over ``t_initial``."""

    def __init__(self, optimizer: Any, t_initial: float, lr_min: float = 0.0, **common: Any) -> None:
        self.t_initial = t_initial
        self.lr_min = lr_min
        super().__init__(optimizer, **common)

    def decayed(self, t: float) -> list[float]:
        left = max(0.0, 1.0 - t / self.t_initial)
        return [self.lr_min + (base - self.lr_min) * left for base in self.base_values]

    def get_cycle_length(self, cycles: int = 0) -> float:
        return self.t_initial + (self.warmup_t if self.warmup_prefix else 0)


class FocalLoss(nn.Module):
    """Focal loss: cross-entropy scaled by ``(1 - p_target) ** gamma`` so easy samples count less."""

    def __init__(self, gamma: float = 2.0) -> None:
        super().__init__()
        self.gamma = gamma

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = F.log_softmax(x, dim=-1).gather(1, target.long().view(-1, 1)).squeeze(1)
        return (-((1.0 - logp.exp()) ** self.gamma) * logp).mean()


class MarkdownLogger(RunLogger):
    """Writes ``results.md``: one Markdown table row per epoch, rewritten whole after every epoch."""

    def __init__(self, filename: str = "results.md") -> None:
        self.filename = filename
        self.rows: list[dict[str, Any]] = []
        self.path: Path | None = None

    def start(self, run_dir: Path, config: dict[str, Any], resume_epoch: int = 0) -> None:
        super().start(run_dir, config, resume_epoch)
        self.path = Path(run_dir) / self.filename
        self.rows = []
        self._write()

    def log_epoch(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        lines = ["| epoch | train loss | val top-1 | lr |", "|---|---|---|---|"]
        for row in self.rows:
            cells = [row.get("epoch"), row.get("train_loss"), row.get("val_top1"), row.get("lr")]
            lines.append("| " + " | ".join(_fmt(c) for c in cells) + " |")
        self.path.write_text("\n".join(lines) + "\n")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
