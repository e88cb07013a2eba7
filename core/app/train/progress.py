"""Progress display: a tqdm bar per phase on a terminal, a line every ``interval`` batches in a log.

On a terminal the bar shows done/total, elapsed time, the ETA and the running loss, accuracy and
img/s (tqdm redraws at most ~10 times a second). When the output is not a terminal (a log file,
a CI job, ``| tee``) there is no bar: a plain line is written every ``interval`` batches
(``--log-interval``) and at the last one, with the same figures and the ETA, then the phase's summary
line. Only the main process shows anything (``enabled=False`` elsewhere).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``1m52s`` / ``12.3s`` / ``1h02m`` style durations."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """One phase (``train``/``val``) of one epoch: ``due``/``update`` per batch, ``close`` at the end.

    ``due(done)`` says whether batch ``done`` should report (callers skip computing the figures,
    which costs a device sync, when it is not): on a terminal every batch up to ``redraw`` apart,
    in a log every ``interval``-th batch and the last one.
    """

    def __init__(self, label: str, total: int, enabled: bool = True, stream: TextIO | None = None,
                 interval: int = 50, redraw: int = 1) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream or sys.stdout
        self.enabled = enabled
        self.tty = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = max(1, interval)
        self.redraw = max(1, redraw)
        self.start = time.perf_counter()
        self.done = 0
        self._bar: Any = None
        if self.tty:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=label, file=self.stream, leave=False, dynamic_ncols=True,
                             unit="batch", mininterval=0.1)

    def due(self, done: int) -> bool:
        """Whether batch ``done`` (1-based) should be reported."""
        if not self.enabled:
            return False
        if done >= self.total:
            return True
        if self.tty:
            return done <= 3 or done % self.redraw == 0
        return done % self.interval == 0

    def update(self, done: int, **stats: Any) -> None:
        """Batch ``done`` of ``total`` finished; ``stats`` (loss=..., acc=..., img_s=...) are shown."""
        if not self.enabled:
            return
        step, self.done = done - self.done, done
        if self._bar is not None:
            self._bar.set_postfix_str(_stats(stats), refresh=False)
            self._bar.update(step)
            if done >= self.total:
                self._bar.refresh()  # the final state, even when it came within tqdm's redraw interval
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        width = len(str(self.total))
        self.stream.write(f"{self.label} {done:>{width}}/{self.total} {_stats(stats)} "
                          f"elapsed {format_duration(elapsed)} eta {format_duration(eta)}\n")
        self.stream.flush()

    def close(self, summary: str) -> None:
        """End the phase: the bar is removed and one summary line written."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.stream.write(f"{summary}\n")
        self.stream.flush()


def _stats(stats: dict[str, Any]) -> str:
    parts = []
    for key, value in stats.items():
        if value is None:
            continue
        if key in ("acc", "top1"):
            parts.append(f"{key} {value:.1f}%")
        elif key == "img_s":
            parts.append(f"{value:.0f} img/s")
        elif isinstance(value, float):
            parts.append(f"{key} {value:.4g}")
        else:
            parts.append(f"{key} {value}")
    return " ".join(parts)
