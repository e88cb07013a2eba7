"""``run_training``: a whole training run from a :class:`~pimm.core.app.train.config.TrainConfig`.

Order of work: the run directory (a new run claims a fresh one, ``X``, ``X-1``, ``X-2`` ... like
timm, never an existing one; ``--resume`` reads the run's saved config with the given overrides,
and a finished run says so instead of training) → processes (``--nproc`` spawns them; torchrun
sets them up, and a torchrun restart continues the run it restarts) → the session: device,
datasets, model, loaders, optimisation, resume state → the epochs → the final summary.
A run that fails before its first checkpoint removes the directory it claimed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

from ...errors import ConfigError, PimmError
from .config import TrainConfig
from .outcome import RunResult, TrainingError

__all__ = ["run_training", "RunResult", "TrainingError", "prepare_run_dir", "claim_run_dir"]

_LAUNCH_MARK = ".launch.json"


def _read_saved_config(run: Path) -> dict:
    saved = run / "config.json"
    if not saved.is_file():
        raise ConfigError(f"--resume {str(run)!r}: no config.json there; pass a run directory written by pimm train")
    try:
        data = json.loads(saved.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot resume: {saved} is damaged (not valid JSON: {exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"cannot resume: {saved} is damaged (it holds {type(data).__name__}, not the run's options)")
    return data


def prepare_run_dir(cfg: TrainConfig) -> tuple[TrainConfig, Path]:
    """Resolve ``--resume`` (its saved config, with the given overrides) or name a new run directory.

    A new run's name is ``--experiment`` or date-time-model; :func:`claim_run_dir` then picks the
    first free ``NAME``, ``NAME-1``, ``NAME-2`` ...
    """
    if cfg.resume:
        from pydantic import ValidationError

        from .config import format_validation_error

        run = Path(cfg.resume).expanduser()
        data = _read_saved_config(run)
        overrides = {k: getattr(cfg, k) for k in cfg.model_fields_set if k not in ("resume", "config")}
        data.update(overrides)
        data["resume"] = str(run)
        data["experiment"], data["output"] = run.name, str(run.parent)
        try:
            resolved = TrainConfig.model_validate(data)
        except ValidationError as exc:
            raise ConfigError("cannot resume: " + format_validation_error(exc, str(run / "config.json"))) from None
        return resolved, run
    resolved = cfg.resolved()
    name = resolved.experiment or f"{time.strftime('%Y%m%d-%H%M%S')}-{resolved.model.replace('/', '_')}"
    resolved = resolved.model_copy(update={"experiment": name})
    return resolved, Path(resolved.output).expanduser() / name


def claim_run_dir(path: Path) -> Path:
    """Create and return the first of ``path``, ``path-1``, ``path-2`` ... that does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, k = path, 0
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            k += 1
            candidate = path.with_name(f"{path.name}-{k}")


def _elastic_agent() -> dict[str, str] | None:
    """Who launched this process under torchrun (its run id and agent), None outside torchelastic."""
    if "TORCHELASTIC_RUN_ID" not in os.environ:
        return None
    return {"run_id": os.environ["TORCHELASTIC_RUN_ID"], "agent": f"{socket.gethostname()}:{os.getppid()}"}


def _restarted_run(parent: Path, name: str | None, agent: dict[str, str]) -> Path | None:
    """The run directory an earlier attempt of this torchrun launch claimed (restart after a failure)."""
    if not parent.is_dir():
        return None
    found = []
    for mark in parent.glob(f"*/{_LAUNCH_MARK}"):
        run = mark.parent
        if name and not (run.name == name or run.name.startswith(f"{name}-")):
            continue
        try:
            if json.loads(mark.read_text()) == agent:
                found.append(run)
        except (OSError, ValueError):
            continue
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _choose_run(cfg: TrainConfig) -> tuple[TrainConfig, Path, bool, list[str]]:
    """(config, run directory, claimed by this call, messages) on the process that decides."""
    agent = _elastic_agent()
    restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0)
    if agent is not None and restart > 0 and not cfg.resume:
        base = cfg.resolved()
        earlier = _restarted_run(Path(base.output).expanduser(), cfg.experiment, agent)
        if earlier is not None and (earlier / "config.json").is_file():
            resumed, run = prepare_run_dir(cfg.model_copy(update={"resume": str(earlier)}))
            return resumed, run, False, [f"torchrun restart {restart}: continuing {run}"]
        if earlier is not None:  # the earlier attempt died before it wrote anything: start it again there
            fresh, _ = prepare_run_dir(cfg)
            fresh = fresh.model_copy(update={"experiment": earlier.name, "output": str(earlier.parent)})
            return fresh, earlier, True, [f"torchrun restart {restart}: starting {earlier} again"]
    cfg, run_dir = prepare_run_dir(cfg)
    if cfg.resume:
        return cfg, run_dir, False, []
    wanted = run_dir
    run_dir = claim_run_dir(wanted)
    notes = []
    if run_dir != wanted:
        notes.append(f"{wanted} already exists (an earlier run; --resume {wanted} continues it): this run "
                     f"writes to {run_dir}")
    if agent is not None:
        (run_dir / _LAUNCH_MARK).write_text(json.dumps(agent))
    return cfg.model_copy(update={"experiment": run_dir.name, "output": str(run_dir.parent)}), run_dir, True, notes


def run_training(cfg: TrainConfig, max_epochs: int | None = None, start_time: float | None = None) -> RunResult:
    """Train as ``cfg`` says; ``max_epochs`` stops early after that many epochs in this call (for tests)."""
    start = start_time if start_time is not None else time.perf_counter()
    from .checkpoint import epochs_done, has_checkpoint, recover
    from .distributed import broadcast_object, dist_info, init_distributed

    info = dist_info()
    claimed = False
    if info.distributed:  # under torchrun: rank 0 decides the run directory, every rank uses it
        wants_cuda = cfg.device.startswith("cuda") or (cfg.device == "auto" and _cuda_available())
        init_distributed(info, "cuda" if wants_cuda else "cpu")
        decided, failure = None, None
        if info.is_main:
            try:
                decided = _choose_run(cfg)
            except Exception as exc:  # noqa: BLE001 - the other ranks must hear of it, not wait forever
                failure = exc
        claimed = bool(decided and decided[2])
        for note in decided[3] if decided else []:
            print(note, flush=True)
        payload = broadcast_object(("error", str(failure)) if failure is not None else
                                   (decided[0].model_dump_json(), str(decided[1])) if decided else None)
        if payload[0] == "error":
            if failure is not None:
                raise failure
            raise ConfigError(f"rank 0 could not set up the run: {payload[1]}")
        cfg, run_dir = TrainConfig.model_validate_json(payload[0]), Path(payload[1])
    else:
        cfg, run_dir, claimed, notes = _choose_run(cfg)
        for note in notes:
            print(note, flush=True)
    if cfg.resume:
        if info.is_main:
            for notice in recover(run_dir):
                print(f"note: {notice}", flush=True)
        done = epochs_done(run_dir)
        if done is not None and has_checkpoint(run_dir) and done >= cfg.epochs:
            if info.is_main:
                print(f"{run_dir} is finished ({done} of {cfg.epochs} epochs); nothing to do. Pass --epochs N "
                      f"with N > {done} to train it longer", flush=True)
            return _result_from_dir(run_dir, time.perf_counter() - start)
    try:
        if cfg.nproc > 1 and not info.distributed:
            return _launch(cfg, run_dir, max_epochs, start)
        return _run(cfg, max_epochs, time.time() - (time.perf_counter() - start))
    except BaseException:
        if claimed and info.is_main and not has_checkpoint(run_dir):
            shutil.rmtree(run_dir, ignore_errors=True)  # failed before its first checkpoint: leave nothing
        raise


def _launch(cfg: TrainConfig, run_dir: Path, max_epochs: int | None, start: float) -> RunResult:
    """Run ``cfg`` in ``cfg.nproc`` local processes (their output streams through; a failure stops all)."""
    from .distributed import launch_local

    if cfg.data is None:  # generate the demo set once, before the workers start
        from .demo_data import ensure_demo_dataset

        ensure_demo_dataset(verbose=True)
    env = {"PIMM_WALL_START": str(time.time() - (time.perf_counter() - start)),
           "PIMM_MAX_EPOCHS": str(max_epochs or "")}
    try:
        launch_local(cfg.nproc, "train", cfg.model_dump_json(), env)
    except PimmError as exc:
        raise TrainingError(str(exc)) from None
    return _result_from_dir(run_dir, time.perf_counter() - start)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _result_from_dir(run_dir: Path, elapsed: float) -> RunResult:
    from .metrics import read_metrics

    rows = read_metrics(run_dir / "metrics.csv")
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        summary = {}
    return RunResult(run_dir, epochs_done=len(rows), best_metric=summary.get("best_metric"),
                     best_epoch=summary.get("best_epoch"), history=rows, elapsed=elapsed,
                     last_val={"top1": rows[-1]["val_top1"]} if rows else {},
                     time_to_target=summary.get("time_to_target"))


def _run(cfg: TrainConfig, max_epochs: int | None, wall_start: float) -> RunResult:
    from .distributed import barrier, cleanup, dist_info, init_distributed
    from .session import Session

    info = dist_info()
    session = Session(cfg, info, wall_start)
    try:
        init_distributed(info, session.device.type)
        session.build()
        result = session.fit(max_epochs)
        barrier()  # rank 0 writes the summary and curves last: every rank leaves the group together
        return result
    finally:
        cleanup()
