"""Builtin plugin 'run_control': early stopping and top-k checkpoint keeping, on the run lifecycle hooks.

Both use only the public hooks (``pimm_run_start``, ``pimm_validated``, ``pimm_checkpoint_saved``)
and read their settings from the run's config (``patience``, ``min_delta``, ``checkpoint_hist``,
``eval_metric``), so a third-party plugin can do the same kind of thing the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pimm.core import hookimpl
from pimm.core.errors import ConfigError

from .checkpoint_hist import keep_checkpoint
from .early_stop import EarlyStopping

_KEY = "run_control"


def _metric_column(eval_metric: str) -> str:
    return {"loss": "val_loss", "top5": "val_top5"}.get(eval_metric, "val_top1")


@hookimpl
def pimm_run_start(run: Any, start_epoch: int) -> None:
    """Set up early stopping from ``--patience``/``--min-delta``, replaying the history of a resumed run."""
    cfg = run.config
    state: dict[str, Any] = {}
    if cfg.get("patience") and cfg.get("val_split") is None:
        raise ConfigError("--patience stops on the validation metric, but this run has no validation split; give "
                          "--val-split or drop --patience")
    if cfg.get("patience"):
        stopper = EarlyStopping(int(cfg["patience"]), float(cfg.get("min_delta") or 0.0),
                                lower_is_better=cfg.get("eval_metric") == "loss")
        if start_epoch:
            stopper.replay(Path(run.run_dir) / "metrics.csv", _metric_column(cfg.get("eval_metric", "top1")),
                           start_epoch)
        state["early_stop"] = stopper
    run.state[_KEY] = state


@hookimpl
def pimm_validated(run: Any, epoch: int, metrics: dict[str, float]) -> None:
    """Count epochs without improvement; ask the run to stop after ``--patience`` of them."""
    stopper = run.state.get(_KEY, {}).get("early_stop")
    if stopper is None:
        return
    reason = stopper.update(epoch, float(metrics["metric"]))
    if reason:
        run.request_stop(f"early stopping: {run.config.get('eval_metric', 'top1')} {reason}")


@hookimpl
def pimm_checkpoint_saved(run: Any, epoch: int, path: Any, metrics: dict[str, Any], is_best: bool) -> None:
    """Keep a copy of the ``--checkpoint-hist`` best epochs' weights under ``RUN/checkpoints``."""
    keep = int(run.config.get("checkpoint_hist") or 0)
    if keep <= 0 or not run.is_main:
        return
    eval_metric = run.config.get("eval_metric", "top1")
    value = metrics.get(_metric_column(eval_metric))
    keep_checkpoint(Path(run.run_dir) / "checkpoints", Path(path), epoch, value, keep,
                    lower_is_better=eval_metric == "loss")
