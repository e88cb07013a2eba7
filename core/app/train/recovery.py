"""``--recovery-interval N`` (timm's flag): the weights every N optimizer steps inside an epoch.

pimm commits a complete, exactly resumable checkpoint at every epoch end. On long epochs a crash
can still cost hours; with ``--recovery-interval N`` the main process also writes the current weights
every N optimizer steps to ``RUN/recovery/`` — a model directory (``model.safetensors`` +
``config.json``, loadable with ``create_model('local-dir:RUN/recovery')``) plus ``recovery.json``
saying the epoch and step. It is replaced as a whole (written beside, then renamed), so it is always
complete. ``--resume`` still continues from the last epoch checkpoint; to keep the mid-epoch
progress, start a new run with ``--initial-checkpoint RUN/recovery/model.safetensors``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["RecoveryWriter", "RECOVERY_DIR"]

RECOVERY_DIR = "recovery"


class RecoveryWriter:
    """Called after each optimizer step with (epoch, step in epoch); writes every ``every``-th step."""

    def __init__(self, run_dir: str | Path, model: Any, every: int, label_names: list[str] | None = None) -> None:
        self.root = Path(run_dir)
        self.model = model
        self.every = max(1, every)
        self.label_names = label_names
        self.total = 0

    def __call__(self, epoch: int, step: int) -> None:
        """Count one optimizer step; write the recovery weights when the interval is reached."""
        self.total += 1
        if self.total % self.every == 0:
            self.write(epoch, step)

    def write(self, epoch: int, step: int) -> Path:
        """Replace ``RUN/recovery`` with the current weights (written beside it, then renamed)."""
        from .checkpoint import save_model_dir

        final = self.root / RECOVERY_DIR
        fresh = self.root / f".{RECOVERY_DIR}.new"
        stale = self.root / f".{RECOVERY_DIR}.old"
        for leftover in (fresh, stale):
            if leftover.exists():
                shutil.rmtree(leftover)
        save_model_dir(self.model, fresh, self.label_names)
        (fresh / "recovery.json").write_text(json.dumps({"epoch": epoch + 1, "step_in_epoch": step,
                                                         "steps_total": self.total}) + "\n")
        if final.exists():
            os.replace(final, stale)
        os.replace(fresh, final)
        if stale.exists():
            shutil.rmtree(stale)
        return final
