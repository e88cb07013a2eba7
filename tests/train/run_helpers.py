"""Helpers of the run-safety tests: a tiny fast run, weight and metrics comparisons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from train_helpers import tiny_options

#: metrics columns that hold timings (differ between runs; everything else must be identical)
TIMING = ("train_img_s", "epoch_time_s", "elapsed_s")


def tiny_model() -> str:
    """The example plugin's smallest net when it is installed (as in CI), else resnet10t."""
    try:
        import pimm_example_plugin  # noqa: F401
    except ImportError:
        return "resnet10t"
    return "tinynet_8"


def fast_options(data: Path, out: Path, **extra: Any) -> dict:
    """A run of a few steps: a tiny net at 16 px, batch 16, one thread, EMA and mixup on (more state to resume)."""
    options = tiny_options(data, out, model=tiny_model(), epochs=2, batch_size=16, model_ema=True,
                           model_ema_decay=0.9, mixup=0.2)
    options.update(extra)
    return options


def weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a model directory's safetensors file."""
    return load_file(str(path / "model.safetensors"))


def same_weights(a: Path, b: Path) -> bool:
    """True when two model directories hold bit-identical tensors."""
    x, y = weights(a), weights(b)
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def strip_timing(rows: list[dict]) -> list[dict]:
    """Metrics rows without their timing columns."""
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]
