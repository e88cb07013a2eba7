"""Fixtures of the app tests: a tiny generated folder dataset and one short training run to share."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

CLASSES = ("blue", "green", "red")
_COLOURS = {"blue": (30, 60, 220), "green": (40, 200, 60), "red": (220, 40, 40)}


def _make_split(root: Path, per_class: int, seed: int, size: int = 20) -> None:
    from PIL import Image

    rng = random.Random(seed)
    for name in CLASSES:
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            colour = tuple(min(255, max(0, c + rng.randint(-30, 30))) for c in _COLOURS[name])
            img = Image.new("RGB", (size, size), colour)
            for _ in range(20):
                img.putpixel((rng.randrange(size), rng.randrange(size)), (rng.randrange(256),) * 3)
            img.save(folder / f"{name}_{i}.png")


@pytest.fixture(scope="session")
def app_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root/train/<class>/*.png (3 classes x 16) and root/val/<class>/*.png (3 x 6), 20 px colour patches."""
    root = tmp_path_factory.mktemp("app-data")
    _make_split(root / "train", 16, 0)
    _make_split(root / "val", 6, 1)
    return root


def app_options(data: Path, out: Path, **extra: object) -> dict:
    """TrainConfig options of a few-step run at 16 px."""
    options = dict(data=str(data), output=str(out), experiment="run", model="resnet10t", input_size=16,
                   epochs=2, batch_size=8, workers=0, threads=1, lr=0.05, warmup_epochs=0, crop_pct=1.0,
                   interpolation="bilinear", color_jitter=0.0, scale=(0.5, 1.0))
    options.update(extra)
    return options


@pytest.fixture(scope="session")
def app_run(app_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished 2-epoch run (resnet10t, 16 px) shared by the read-only tests of its outputs."""
    from pimm.core.app.train.config import make_config
    from pimm.core.app.train.launch import run_training

    out = tmp_path_factory.mktemp("app-run")
    mp = pytest.MonkeyPatch()
    mp.setenv("PIMM_CACHE_DIR", str(out / "cache"))
    try:
        result = run_training(make_config(app_options(app_folder, out)))
    finally:
        mp.undo()
    return result.run_dir
