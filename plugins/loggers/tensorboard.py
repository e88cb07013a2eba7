"""TensorBoard logger: every numeric value of an epoch's row as a scalar, step = epoch."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pimm.core.logger import RunLogger

__all__ = ["TensorBoardLogger", "scalar_tag"]


def scalar_tag(key: str) -> str:
    """``train_loss`` -> ``train/loss``, ``val_top1`` -> ``val/top1``; other keys stay as they are."""
    for prefix in ("train_", "val_"):
        if key.startswith(prefix):
            return prefix[:-1] + "/" + key[len(prefix):]
    return key


class TensorBoardLogger(RunLogger):
    """Writes event files under ``run_dir/tensorboard`` with ``torch.utils.tensorboard.SummaryWriter``."""

    def __init__(self, subdir: str = "tensorboard", flush_secs: int = 30) -> None:
        self.subdir = subdir
        self.flush_secs = flush_secs
        self.writer: Any = None

    def start(self, run_dir: Path, config: dict[str, Any], resume_epoch: int = 0) -> None:
        """Open the writer; on resume, TensorBoard hides events after ``resume_epoch`` (``purge_step``)."""
        super().start(run_dir, config, resume_epoch)
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / self.subdir), flush_secs=self.flush_secs,
                                    purge_step=resume_epoch + 1 if resume_epoch else None)
        if not resume_epoch:
            text = "\n".join(f"    {k}: {v}" for k, v in sorted(config.items()))
            self.writer.add_text("config", text, 0)

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Each finite number of ``row`` (except ``epoch``) as a scalar at step ``epoch``."""
        if self.writer is None:
            raise RuntimeError("TensorBoardLogger.log_epoch() before start()")
        step = int(row.get("epoch") or 0)
        for key, value in row.items():
            if key == "epoch" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                self.writer.add_scalar(scalar_tag(key), value, step)
        self.writer.flush()

    def close(self, error: BaseException | None = None) -> None:
        """Flush and close the event file."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
