"""A run's events: the lifecycle hooks (``pimm_run_start`` ... ``pimm_run_failed``) and the run's loggers.

:class:`RunEvents` is what the training session calls at each event. It calls every plugin's
implementation of the matching hook with the keyword arguments that implementation declares (in
plugin load order), and forwards start / epoch rows / close to the loggers chosen with ``--log``
(main process only). A hook that raises stops the run with an error naming the plugin; errors in
``pimm_run_failed`` hooks are only warned about, so they never hide the run's own error.
"""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import PimmError
from ...manager import get_manager

__all__ = ["RunContext", "RunEvents", "HookError"]


class HookError(PimmError):
    """A plugin's run-event hook raised; the message names the plugin and the hook."""


@dataclass
class RunContext:
    """What every run-event hook receives as ``run`` (see docs/hooks.md, "Run events")."""

    run_dir: Path
    config: dict[str, Any]
    epochs: int
    is_main: bool = True
    rank: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    stop_reason: str | None = None

    def request_stop(self, reason: str) -> None:
        """Ask the run to stop after the current epoch (the first reason given is kept)."""
        if self.stop_reason is None:
            self.stop_reason = str(reason)


def _call_hook(name: str, run: RunContext, quiet: bool = False, **kwargs: Any) -> None:
    arguments = {"run": run, **kwargs}
    for record, function in get_manager().hook_functions(name):
        wanted = inspect.signature(function).parameters
        try:
            function(**{k: v for k, v in arguments.items() if k in wanted})
        except Exception as exc:
            message = f"{record.provider}: {name}() failed: {type(exc).__name__}: {exc}"
            if quiet:
                warnings.warn(message, stacklevel=3)
                continue
            raise HookError(message) from exc


class RunEvents:
    """Calls the lifecycle hooks and the loggers of one run."""

    def __init__(self, run: RunContext, loggers: Any = None) -> None:
        self.run = run
        self.loggers = loggers if run.is_main else None
        self._closed = False
        self._started = False

    @property
    def stop_reason(self) -> str | None:
        """Why a hook asked the run to stop, or None."""
        return self.run.stop_reason

    def start_loggers(self, start_epoch: int) -> None:
        """Start the loggers (once; :meth:`run_start` does it when this was not called)."""
        if self.loggers is not None and not self._started:
            self._started = True
            self.loggers.start(self.run.run_dir, self.run.config, start_epoch)

    def run_start(self, start_epoch: int) -> None:
        """Start the loggers, then ``pimm_run_start``."""
        self.start_loggers(start_epoch)
        _call_hook("pimm_run_start", self.run, start_epoch=start_epoch)

    def epoch_start(self, epoch: int) -> None:
        """``pimm_epoch_start`` (``epoch`` 1-based)."""
        _call_hook("pimm_epoch_start", self.run, epoch=epoch)

    def validated(self, epoch: int, val: dict[str, Any], eval_metric: str) -> None:
        """``pimm_validated`` with the validation numbers and ``metric`` = the value of ``--eval-metric``."""
        metrics = {k: float(val[k]) for k in ("loss", "top1", "top5") if val.get(k) is not None}
        metrics["metric"] = float(val[eval_metric])
        _call_hook("pimm_validated", self.run, epoch=epoch, metrics=metrics)

    def checkpoint_saved(self, epoch: int, path: Path, row: dict[str, Any], is_best: bool) -> None:
        """``pimm_checkpoint_saved`` (main process only)."""
        if self.run.is_main:
            _call_hook("pimm_checkpoint_saved", self.run, epoch=epoch, path=Path(path), metrics=_clean(row),
                       is_best=is_best)

    def epoch_end(self, epoch: int, row: dict[str, Any]) -> None:
        """Give the loggers the epoch's row, then ``pimm_epoch_end``."""
        if self.loggers is not None:
            self.loggers.log_epoch(row)
        _call_hook("pimm_epoch_end", self.run, epoch=epoch, metrics=_clean(row))

    def run_end(self, epochs_done: int, best: tuple[float, int] | None) -> None:
        """``pimm_run_end``, then close the loggers."""
        try:
            _call_hook("pimm_run_end", self.run, epochs_done=epochs_done,
                       best=None if best is None else {"metric": best[0], "epoch": best[1]})
        finally:
            self._close(None)

    def run_failed(self, error: BaseException) -> None:
        """``pimm_run_failed`` (its errors are warnings), then close the loggers."""
        try:
            _call_hook("pimm_run_failed", self.run, quiet=True, error=error)
        finally:
            self._close(error)

    def _close(self, error: BaseException | None) -> None:
        if self._closed:
            return
        self._closed = True
        if self.loggers is not None:
            self.loggers.close(error)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
