"""Accuracy does not suffer from the fast defaults: the default run (bf16 autocast + channels_last, forced on so
the fast path is what is tested on any CPU) ends within 1 top-1 point of an fp32 NCHW run with the same seed and
epochs. Small: an easy generated colour folder at 32 px. Large: the demo set with its own profile."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pimm.core.app.train import fast_defaults
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training

_COLOURS = {"red": (210, 40, 40), "green": (40, 190, 60), "blue": (40, 70, 210)}


def _colour_folder(root: Path, per_class: dict[str, int], size: int = 40) -> Path:
    from PIL import Image, ImageDraw

    rng = random.Random(3)
    for split, count in per_class.items():
        for name, base in _COLOURS.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                img = Image.new("RGB", (size, size), tuple(rng.randint(90, 160) for _ in range(3)))
                colour = tuple(min(255, max(0, c + rng.randint(-25, 25))) for c in base)
                x, y = rng.randint(0, size // 3), rng.randint(0, size // 3)
                ImageDraw.Draw(img).rectangle((x, y, x + size // 2, y + size // 2), fill=colour)
                img.save(folder / f"{name}_{i}.png")
    return root


def _final_top1(run_dir: Path) -> float:
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    header, last = rows[0].split(","), rows[-1].split(",")
    return float(last[header.index("val_top1")])


def _pair(options: dict, out: Path) -> tuple[float, float, dict]:
    fast = run_training(make_config({**options, "output": str(out), "experiment": "fast"}))
    plain = run_training(make_config({**options, "output": str(out), "experiment": "fp32", "amp": "none",
                                      "channels_last": False}))
    saved = json.loads((fast.run_dir / "config.json").read_text())
    return _final_top1(fast.run_dir), _final_top1(plain.run_dir), saved


def test_fast_defaults_keep_top1_on_a_generated_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(fast_defaults, "cpu_bf16_support", lambda: "avx512_bf16")
    data = _colour_folder(tmp_path / "data", {"train": 16, "val": 12})
    options = dict(data=str(data), model="resnet10t", input_size=32, epochs=2, batch_size=16, workers=0, threads=1,
                   opt="adamw", lr=3e-3, weight_decay=0.05, warmup_epochs=0, crop_pct=1.0, interpolation="bilinear",
                   color_jitter=0.0, scale=(0.6, 1.0), seed=5)
    fast, plain, saved = _pair(options, tmp_path / "runs")
    assert (saved["amp"], saved["channels_last"]) == ("bf16", True)  # the fast path really ran
    assert plain >= 90.0, f"the fp32 reference did not learn the easy task ({plain:.1f}%)"
    assert abs(fast - plain) <= 1.0, f"fast defaults {fast:.2f}% vs fp32 NCHW {plain:.2f}% top-1"


@pytest.mark.large
def test_fast_defaults_keep_top1_on_the_demo_set(tmp_path, monkeypatch):
    monkeypatch.setattr(fast_defaults, "cpu_bf16_support", lambda: "avx512_bf16")
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    fast, plain, saved = _pair(dict(workers=0, seed=42), tmp_path / "runs")  # no --data: the demo profile
    assert (saved["amp"], saved["channels_last"]) == ("bf16", True)
    assert abs(fast - plain) <= 1.0, f"fast defaults {fast:.2f}% vs fp32 NCHW {plain:.2f}% top-1 on the demo set"
