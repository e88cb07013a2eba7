"""``--resume``: restoring a run's committed checkpoint into freshly built objects, or saying exactly why not.

Every way a run directory can be damaged — truncated weights, a ``state.pt`` that is unreadable,
would run code, or belongs to another optimizer or model — is one :class:`~pimm.core.errors.ConfigError`
line that names the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from .checkpoint import load_state, set_rng_state

__all__ = ["Restored", "restore_run", "check_signature"]


@dataclass
class Restored:
    """What a resumed run continues from."""

    epoch: int
    best: tuple[float, int] | None
    time_to_target: float | None


def check_signature(state: dict[str, Any], signature: dict[str, Any], path: Path) -> None:
    """Refuse a resume state written for another optimizer, model or parameter layout."""
    for key, what in (("opt", "optimizer"), ("model", "model")):
        if key in state and state[key] != signature[key]:
            raise ConfigError(f"{path} was written for {what} {state[key]!r} but this run uses {signature[key]!r}; "
                              f"resume with --{key} {state[key]} or start a new run")
    saved = state.get("param_shapes")
    if saved is not None and [list(s) for s in saved] != signature["param_shapes"]:
        raise ConfigError(f"{path} holds optimizer state for other parameters ({len(saved)} tensors) than this "
                          f"run's model has ({len(signature['param_shapes'])}); it belongs to another model")


def _load_weights(module: Any, path: Path) -> None:
    from safetensors.torch import load_file

    if not path.is_file():
        raise ConfigError(f"cannot resume: {path} is missing; the run directory is damaged")
    try:
        weights = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user problem
        raise ConfigError(f"cannot resume: {path} is damaged ({' '.join(str(exc).split())[:160]})") from None
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise ConfigError(f"{path} does not fit the model of this run ({str(exc).splitlines()[0]}); resume with "
                          "the run's own options") from None


def restore_run(run_dir: Path, model: Any, optimizer: Any, schedule: Any, ema: Any, scaler: Any,
                signature: dict[str, Any], resume_opt: bool = True) -> Restored:
    """Load the committed checkpoint of ``run_dir`` into the given objects (one-line errors naming the file).

    ``resume_opt=False`` (timm's ``--no-resume-opt``) leaves the optimizer and the loss scaler as built,
    so the optimizer may differ from the one the run used.
    """
    state = load_state(run_dir)
    path = Path(run_dir) / "state.pt"
    if not resume_opt:
        state = {k: v for k, v in state.items() if k not in ("opt", "param_shapes")}
    check_signature(state, signature, path)
    _load_weights(model, Path(run_dir) / "last" / "model.safetensors")
    try:
        if resume_opt:
            optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        if ema is not None and "ema" in state:
            ema.load_state_dict(state["ema"])
        if scaler is not None and "scaler" in state and resume_opt:
            scaler.load_state_dict(state["scaler"])
        set_rng_state(state["rng"])
        epoch = int(state["epoch"])
        best = None
        if state.get("best_metric") is not None:
            best = (float(state["best_metric"]), int(state["best_epoch"]))
    except (ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise ConfigError(f"{path} does not fit this run ({' '.join(str(exc).split())[:160]}); it was written "
                          "by another optimizer or model, start a new run") from None
    return Restored(epoch, best, state.get("time_to_target"))
