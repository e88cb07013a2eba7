"""What a training run reports: its result, and the errors that stop it (out of memory, divergence).

Shared by the launcher (:mod:`.launch`) and the in-process run (:mod:`.session`), so neither
imports the other's module for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import PimmError

__all__ = ["RunResult", "TrainingError", "is_oom", "oom_error", "check_finite", "check_weights_finite"]


class TrainingError(PimmError, RuntimeError):
    """Training could not go on (out of memory, diverged, a worker process failed)."""


@dataclass
class RunResult:
    """What a finished (or stopped) run reports."""

    run_dir: Path
    epochs_done: int = 0
    best_metric: float | None = None
    best_epoch: int | None = None
    last_val: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0
    time_to_target: float | None = None


def is_oom(exc: BaseException) -> bool:
    """True for CUDA/CPU/MPS out-of-memory errors."""
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def oom_error(cfg: Any, device: Any) -> TrainingError:
    """The one-line advice for a batch that does not fit."""
    smaller = max(1, cfg.batch_size // 2)
    return TrainingError(
        f"out of memory on {device} with --batch-size {cfg.batch_size}: use --batch-size {smaller} --grad-accum "
        f"{cfg.grad_accum * 2} (same effective batch), a smaller --input-size, or --amp bf16"
    )


_ADVICE = "lower --lr, add --clip-grad 1.0, or use --amp bf16 instead of fp16"


def check_finite(loss: float, epoch: int, what: str = "training") -> None:
    """Stop with advice when the ``what`` ('training' or 'validation') loss became NaN or infinite."""
    if not math.isfinite(loss):
        raise TrainingError(f"the {what} loss became {loss} in epoch {epoch + 1}: the model diverged and no "
                            f"checkpoint of this epoch is kept; {_ADVICE}")


def check_weights_finite(model: Any, epoch: int) -> None:
    """Stop when any parameter or buffer of ``model`` holds NaN or infinity (never checkpoint such weights)."""
    import torch

    floats = [t for t in model.state_dict().values() if t.is_floating_point()]
    if not floats:
        return
    with torch.no_grad():
        bad = [name for name, t in model.state_dict().items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise TrainingError(f"the weights became non-finite in epoch {epoch + 1} ({bad[0]}"
                            f"{f' and {len(bad) - 1} more' if len(bad) > 1 else ''}): the model diverged and no "
                            f"checkpoint of this epoch is kept; {_ADVICE}")
