"""Conformance checks for logger components: the run-logger lifecycle in a temporary run directory."""

from __future__ import annotations

import logging
import math
import tempfile
from pathlib import Path
from typing import Any

from .kit import ComponentRef, check, skip

ROWS: list[dict[str, Any]] = [
    {"epoch": 1, "train_loss": 1.5, "train_top1": 40.0, "val_loss": 1.2, "val_top1": 50.0, "val_top5": 90.0,
     "lr": 0.1, "train_img_s": 100.0, "epoch_time_s": 1.0, "elapsed_s": 1.0},
    {"epoch": 2, "train_loss": 1.0, "train_top1": 60.0, "val_loss": math.nan, "val_top1": None, "val_top5": None,
     "lr": 0.05, "train_img_s": 110.0, "epoch_time_s": 1.0, "elapsed_s": 2.0},
]


def _build(component: ComponentRef) -> Any:
    from ..errors import ConfigError
    from ..logger import check_requirements

    try:
        check_requirements(component.qualified_name)
    except ConfigError as exc:
        skip(str(exc))
    return component.create()


def _handlers() -> list[logging.Handler]:
    from ..logger import CONSOLE_LOGGER

    return list(logging.getLogger().handlers) + list(logging.getLogger(CONSOLE_LOGGER).handlers)


@check("logger")
def check_logger_lifecycle_writes_its_files(component: ComponentRef) -> None:
    """start, two epoch rows (one with None and NaN values), close: every file of ``spec.files`` exists
    inside the run directory and nothing is written outside it."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_dir = root / "run"
        run_dir.mkdir()
        logger = _build(component)
        logger.start(run_dir, {"model": "tiny", "epochs": 2}, 0)
        for row in ROWS:
            logger.log_epoch(dict(row))
        logger.close()
        for name in getattr(component.spec, "files", ()):
            if not (run_dir / name).exists():
                raise AssertionError(f"spec.files names {name!r} but the logger did not write it in the run dir")
        if sorted(p.name for p in root.iterdir()) != ["run"]:
            raise AssertionError("the logger wrote outside the run directory")


@check("logger")
def check_logger_resume_and_failure(component: ComponentRef) -> None:
    """A resumed run (resume_epoch=1) logs again and closes with an error without raising; the
    logger leaves no logging handler attached after close."""
    before = _handlers()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        first = _build(component)
        first.start(run_dir, {}, 0)
        first.log_epoch(dict(ROWS[0]))
        first.log_epoch(dict(ROWS[1]))
        first.close()
        second = _build(component)
        second.start(run_dir, {}, 1)
        second.log_epoch(dict(ROWS[1]))
        second.close(RuntimeError("simulated failure"))
    after = _handlers()
    if after != before:
        raise AssertionError(f"logging handlers left attached after close: {set(after) - set(before)}")
