"""Run checkpoints: model directories in safetensors, and the resume state.

A run directory holds ``last/`` and ``best/`` (and ``last_ema/`` with ``--model-ema``), each
written by :func:`pimm.core.models.save_pretrained`: ``model.safetensors`` plus ``config.json``
(the model spec and options), so ``create_model("local-dir:RUN/best")`` rebuilds the model.
``state.pt`` holds everything else ``--resume`` needs to continue exactly: optimizer, schedule,
EMA, AMP scaler, the epoch reached, the best metric, and the random-number-generator states of
Python, NumPy, torch and CUDA. It holds plain tensors and numbers only, so it loads with
``torch.load(weights_only=True)``. Every file is written to a temporary name and renamed, so an
interruption never leaves a torn checkpoint.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import torch

from ...errors import ConfigError

__all__ = ["save_model_dir", "save_state", "load_state", "rng_state", "set_rng_state", "STATE_FILE"]

STATE_FILE = "state.pt"


def save_model_dir(model: Any, directory: str | Path, label_names: list[str] | None = None) -> Path:
    """Write ``model`` as a pimm model directory (safetensors + config.json), replacing ``directory``."""
    from ...models import save_pretrained

    out = Path(directory)
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    if label_names is not None:
        cfg = dict(getattr(model, "pretrained_cfg", None) or {})
        cfg["label_names"] = list(label_names)
        model.pretrained_cfg = cfg
    save_pretrained(model, tmp)
    old = out.with_name(out.name + ".old")
    if out.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old)
    return out


def rng_state() -> dict[str, Any]:
    """The states of Python's, NumPy's (if imported), torch's and CUDA's random generators."""
    import sys

    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    np = sys.modules.get("numpy")
    if np is not None:
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        state["numpy"] = (kind, torch.from_numpy(keys.astype("int64")), int(pos), int(has_gauss), float(cached))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned (generators absent now or then are left alone)."""
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    if "numpy" in state:
        import numpy as np

        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype("uint32"), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        states = state["cuda"]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)


def save_state(path: str | Path, state: dict[str, Any]) -> None:
    """Write the resume state atomically."""
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, out)


def load_state(run_dir: str | Path) -> dict[str, Any]:
    """The resume state of a run directory (clear error when it is not a resumable run)."""
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        raise ConfigError(
            f"cannot resume from {str(run_dir)!r}: it has no {STATE_FILE}. Pass a run directory written by "
            "`pimm train` (it holds config.json, state.pt, last/ and best/) after at least one finished epoch"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user problem
        raise ConfigError(f"cannot read {path}: {exc}; the file is damaged, start a new run") from None
