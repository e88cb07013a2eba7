"""What a benchmark case is. Each ``bench_*.py`` module defines ``CASES: list[Case]``."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


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
