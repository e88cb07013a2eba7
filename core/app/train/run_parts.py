"""The run's pluggable parts built from its config: the loss (``--loss``/``--bce-loss``), the loggers
(``--log``), the run-event dispatcher and the console logger the session prints through."""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["create_run_loss", "create_run_events", "console", "configure_cli_logging", "stop_agreed"]


class _CurrentStdout(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at the time of each record (test captures, redirects)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def console() -> logging.Logger:
    """The ``pimm.run`` logger: prints plain lines to stdout; the text logger also records them."""
    from ...logger import CONSOLE_LOGGER

    log = logging.getLogger(CONSOLE_LOGGER)
    if not any(isinstance(h, _CurrentStdout) for h in log.handlers):
        handler = _CurrentStdout()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


@contextlib.contextmanager
def configure_cli_logging() -> Iterator[None]:
    """What ``pimm train`` sets up for a run: the run's own lines on stdout (logger ``pimm.run``),
    library notices (WARNING and up, any stdlib logger) and Python warnings on stderr through stdlib
    logging, so the ``text`` logger's train.log receives all of them too. Undone on exit."""
    console()
    root = logging.getLogger()
    handler = None
    if not root.handlers:
        handler = logging.StreamHandler()  # stderr
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        root.addHandler(handler)
    capture = getattr(warnings.showwarning, "__module__", "") != "logging"  # not already routed
    if capture:
        logging.captureWarnings(True)
    try:
        yield
    finally:
        if capture:
            logging.captureWarnings(False)
        if handler is not None:
            root.removeHandler(handler)


def create_run_loss(cfg: Any, mixup: bool, device: Any) -> Any:
    """The training loss: ``--loss`` (or timm's choice by Mixup/smoothing/``--bce-loss``), on ``device``."""
    from ...loss import create_loss

    loss = create_loss(cfg.loss, mixup=mixup, smoothing=cfg.smoothing, bce=cfg.bce_loss,
                       bce_target_thresh=cfg.bce_target_thresh, bce_sum=cfg.bce_sum,
                       bce_pos_weight=cfg.bce_pos_weight)
    return loss.to(device) if hasattr(loss, "to") else loss


def create_run_events(cfg: Any, run_dir: Path, is_main: bool, rank: int) -> Any:
    """The run's event dispatcher with the loggers of ``--log`` (checked before anything trains)."""
    from ...logger import RunLoggers, parse_logger_names
    from .run_events import RunContext, RunEvents

    loggers = RunLoggers(parse_logger_names(cfg.log)) if is_main else None
    run = RunContext(run_dir=Path(run_dir), config=cfg.model_dump(mode="json"), epochs=cfg.epochs, is_main=is_main,
                     rank=rank)
    return RunEvents(run, loggers)


def stop_agreed(events: Any, device: Any, distributed: bool) -> bool:
    """True when any process's hooks asked to stop (all processes then stop after the same epoch)."""
    local = 1.0 if events.stop_reason else 0.0
    if not distributed:
        return bool(local)
    from .distributed import all_reduce_sums

    return all_reduce_sums([local], device)[0] > 0
