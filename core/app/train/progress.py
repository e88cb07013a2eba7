"""Progress display: a live bar per epoch on a terminal, one summary line per epoch otherwise.

No third-party dependency: the bar is redrawn with a carriage return. Only the main process shows
anything (``enabled=False`` elsewhere).
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
    """Shows one phase (``train``/``val``) of one epoch: ``update`` per batch, ``close`` at the end."""

    def __init__(self, label: str, total: int, enabled: bool = True, stream: TextIO | None = None,
                 interval: int = 1, width: int = 24) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream or sys.stdout
        self.enabled = enabled
        self.tty = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = max(1, interval)
        self.width = width
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.done = 0

    def update(self, done: int, **stats: Any) -> None:
        """Batch ``done`` of ``total`` finished; ``stats`` (loss=..., acc=..., img_s=...) are shown."""
        self.done = done
        if not self.tty:
            return
        now = time.perf_counter()
        if done < self.total and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        frac = done / self.total if self.total else 1.0
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total} {_stats(stats)} "
                          f"{format_duration(now - self.start)}\x1b[K")
        self.stream.flush()

    def close(self, summary: str) -> None:
        """End the phase: the bar is replaced by (or the log gets) one summary line."""
        if not self.enabled:
            return
        prefix = "\r" if self.tty else ""
        suffix = "\x1b[K" if self.tty else ""
        self.stream.write(f"{prefix}{summary}{suffix}\n")
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
