"""Helpers of the logger tests (a module of its own: `from conftest import` breaks mixed test selections)."""

from __future__ import annotations

from pathlib import Path


def run_options(data: Path, out: Path, **extra: object) -> dict:
    """TrainConfig options of a run of a few steps at 16 px."""
    options = dict(data=str(data), output=str(out), experiment="run", model="resnet10t", input_size=16, epochs=2,
                   batch_size=8, workers=0, threads=1, lr=0.05, warmup_epochs=0, crop_pct=1.0,
                   interpolation="bilinear", color_jitter=0.0, scale=(0.5, 1.0))
    options.update(extra)
    return options
