"""Fixtures of the app tests: a tiny generated folder dataset and one short training run to share."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from app_helpers import app_options

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
