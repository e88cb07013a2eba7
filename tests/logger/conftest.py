"""A tiny three-colour image folder for runs that exercise the run hooks and loggers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def colour_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root/{train,val}/{red,green,blue}/*.png: flat colours with a little noise (easy to learn)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("colours")
    rng = random.Random(3)
    colours = {"red": (210, 40, 40), "green": (40, 190, 60), "blue": (40, 60, 210)}
    for split, count in (("train", 12), ("val", 4)):
        for name, base in colours.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                img = Image.new("RGB", (16, 16), tuple(min(255, max(0, c + rng.randint(-25, 25))) for c in base))
                img.save(folder / f"{i}.png")
    return root


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
