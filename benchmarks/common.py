"""What a benchmark case is (each ``bench_*.py`` module defines ``CASES: list[Case]``), and the inputs several
benchmarks share: fixed optimizer parameters and a generated JPEG folder. Stdlib imports only at module level,
so a timm interpreter without pimm can import it too."""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Case:
    """One figure (or a few side-by-side figures) to measure.

    ``run`` performs ONE measurement and returns a number in ``unit``, or a dict of named numbers
    (e.g. ``{"pimm": 12.0, "timm": 15.0}``) for side-by-side figures. With ``fresh_process`` every
    repeat runs in a new interpreter, for cases where import state matters (cold imports).
    """

    name: str
    unit: str
    run: Callable[[], float | dict[str, float]]
    repeats: int = 5
    fresh_process: bool = False
    higher_is_better: bool = False


def timm_python() -> str | None:
    """An interpreter that can import timm for the side-by-side cases: this one when timm is importable,
    else ``$PIMM_TIMM_PYTHON`` or a scratch venv at /tmp/timmvenv; None when there is none."""
    if importlib.util.find_spec("timm") is not None:
        return sys.executable
    for candidate in (os.environ.get("PIMM_TIMM_PYTHON"), "/tmp/timmvenv/bin/python"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def fixed_params(shapes: Sequence[Sequence[int]], device: str = "cpu") -> list[Any]:
    """Parameters of ``shapes`` with fixed random values and gradients (the same on every side and run)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    params = []
    for shape in shapes:
        p = torch.nn.Parameter((torch.randn(tuple(shape), generator=gen) * 0.05).to(device))
        p.grad = (torch.randn(tuple(shape), generator=gen) * 1e-3).to(device)
        params.append(p)
    return params


#: the class colours of :func:`jpeg_folder`, in class order
_COLOURS = ((210, 50, 50), (50, 180, 70), (50, 80, 210), (220, 200, 40), (200, 60, 200), (40, 200, 200))


def jpeg_folder(root: Path, image_size: int, counts: tuple[int, int], classes: Sequence[str]) -> Path:
    """``root/train/<class>/`` and ``root/val/<class>/`` with ``counts`` = (train, val) generated JPEGs per class: a
    square of the class's colour (jittered) on a cluttered background, easy to learn. Built once per ``root``."""
    from PIL import Image, ImageDraw

    if (root / ".complete").exists():
        return root
    rng = random.Random(0)
    for split, count in zip(("train", "val"), counts):
        for c, name in enumerate(classes):
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(count):
                img = Image.new("RGB", (image_size, image_size), tuple(rng.randint(60, 190) for _ in range(3)))
                draw = ImageDraw.Draw(img)
                for _ in range(6):  # clutter
                    x, y = rng.randrange(image_size), rng.randrange(image_size)
                    draw.ellipse((x, y, x + image_size // 8, y + image_size // 8),
                                 fill=tuple(rng.randint(60, 190) for _ in range(3)))
                side = rng.randint(image_size // 3, image_size // 2)
                x, y = rng.randrange(image_size - side), rng.randrange(image_size - side)
                colour = tuple(min(255, max(0, v + rng.randint(-30, 30))) for v in _COLOURS[c % len(_COLOURS)])
                draw.rectangle((x, y, x + side, y + side), fill=colour)
                img.save(root / split / name / f"{name}_{i:04d}.jpg", quality=90)
    (root / ".complete").touch()
    return root
