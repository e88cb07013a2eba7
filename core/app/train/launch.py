"""``run_training``: a whole training run from a :class:`~pimm.core.app.train.config.TrainConfig`.

Order of work: processes (``--nproc`` spawns them; torchrun sets them up) → device, threads →
run directory (rank 0 writes) → datasets → model → transforms and loaders → optimizer, schedule,
EMA, AMP, Mixup, loss → resume state → per epoch: seed, train, validate (EMA too), metrics row,
checkpoints, plot → the final summary ("reached 95.2% top-1 in 1m52s").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ...errors import ConfigError, PimmError
from .config import TrainConfig
from .outcome import RunResult, TrainingError

__all__ = ["run_training", "RunResult", "TrainingError", "prepare_run_dir"]


def prepare_run_dir(cfg: TrainConfig) -> tuple[TrainConfig, Path]:
    """Resolve ``--resume`` (its saved config, with the given overrides) or a new run directory name."""
    if cfg.resume:
        run = Path(cfg.resume).expanduser()
        saved = run / "config.json"
        if not saved.is_file():
            raise ConfigError(f"--resume {cfg.resume!r}: no config.json there; pass a run directory written by pimm train")
        import json

        data = json.loads(saved.read_text())
        overrides = {k: getattr(cfg, k) for k in cfg.model_fields_set if k not in ("resume", "config")}
        data.update(overrides)
        data["resume"] = str(run)
        resolved = TrainConfig.model_validate(data)
        return resolved, run
    resolved = cfg.resolved()
    name = resolved.experiment or f"{time.strftime('%Y%m%d-%H%M%S')}-{resolved.model.replace('/', '_')}"
    resolved = resolved.model_copy(update={"experiment": name})
    return resolved, Path(resolved.output).expanduser() / name


def run_training(cfg: TrainConfig, max_epochs: int | None = None, start_time: float | None = None) -> RunResult:
    """Train as ``cfg`` says; ``max_epochs`` stops early after that many epochs in this call (for tests)."""
    start = start_time if start_time is not None else time.perf_counter()
    from .distributed import dist_info, launch_local

    info = dist_info()
    cfg, run_dir = prepare_run_dir(cfg)
    if info.distributed:  # under torchrun: every rank must use rank 0's run directory name
        from .distributed import broadcast_object, init_distributed

        wants_cuda = cfg.device.startswith("cuda") or (cfg.device == "auto" and _cuda_available())
        init_distributed(info, "cuda" if wants_cuda else "cpu")
        run_dir = Path(broadcast_object(str(run_dir)))
    if cfg.nproc > 1 and not info.distributed:
        if cfg.data is None:  # generate the demo set once, before the workers start
            from .demo_data import ensure_demo_dataset

            ensure_demo_dataset(verbose=True)
        fixed = cfg.model_copy(update={"resume": cfg.resume, "experiment": run_dir.name,
                                       "output": str(run_dir.parent)})
        import os

        os.environ["PIMM_WALL_START"] = str(time.time() - (time.perf_counter() - start))
        os.environ["PIMM_MAX_EPOCHS"] = str(max_epochs or "")
        try:
            launch_local(cfg.nproc, "train", fixed.model_dump_json())
        except PimmError as exc:
            raise TrainingError(str(exc)) from None
        finally:
            os.environ.pop("PIMM_WALL_START", None)
            os.environ.pop("PIMM_MAX_EPOCHS", None)
        return _result_from_dir(run_dir, time.perf_counter() - start)
    return _run(cfg.model_copy(update={"experiment": run_dir.name, "output": str(run_dir.parent)}), max_epochs,
                time.time() - (time.perf_counter() - start))


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _result_from_dir(run_dir: Path, elapsed: float) -> RunResult:
    import json

    from .metrics import read_metrics

    rows = read_metrics(run_dir / "metrics.csv")
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").is_file() else {}
    return RunResult(run_dir, epochs_done=len(rows), best_metric=summary.get("best_metric"),
                     best_epoch=summary.get("best_epoch"), history=rows, elapsed=elapsed,
                     last_val={"top1": rows[-1]["val_top1"]} if rows else {},
                     time_to_target=summary.get("time_to_target"))


def _run(cfg: TrainConfig, max_epochs: int | None, wall_start: float) -> RunResult:
    from .distributed import cleanup, dist_info, init_distributed
    from .session import Session

    info = dist_info()
    session = Session(cfg, info, wall_start)
    try:
        init_distributed(info, session.device.type)
        session.build()
        return session.fit(max_epochs)
    finally:
        cleanup()
