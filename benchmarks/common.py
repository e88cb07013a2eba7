"""What a benchmark case is. Each ``bench_*.py`` module defines ``CASES: list[Case]``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
