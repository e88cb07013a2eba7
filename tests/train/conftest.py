"""Fixtures for the training tests: tiny generated datasets (folder and tar) and an isolated cache."""

from __future__ import annotations

import random
import tarfile
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
        base = _COLOURS[name]
        for i in range(per_class):
            colour = tuple(min(255, max(0, c + rng.randint(-30, 30))) for c in base)
            img = Image.new("RGB", (size, size), colour)
            for _ in range(20):
                img.putpixel((rng.randrange(size), rng.randrange(size)), (rng.randrange(256),) * 3)
            img.save(folder / f"{name}_{i}.png")


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root/train/<class>/*.png (3 classes x 16) and root/val/<class>/*.png (3 x 5)."""
    root = tmp_path_factory.mktemp("tiny-data")
    _make_split(root / "train", 16, 0)
    _make_split(root / "val", 5, 1)
    return root


@pytest.fixture(scope="session")
def tiny_tar(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same data as tars: root/train.tar and root/val.tar holding <class>/<image>."""
    root = tmp_path_factory.mktemp("tiny-tar")
    for split in ("train", "val"):
        with tarfile.open(root / f"{split}.tar", "w") as tar:
            for path in sorted((tiny_folder / split).rglob("*.png")):
                tar.add(path, arcname=str(path.relative_to(tiny_folder / split)))
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the demo dataset and tar indexes of a test out of the user's cache."""
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
