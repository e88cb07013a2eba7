"""The text run log (``train.log``): the run's printed lines, library notices and one line per epoch."""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any

from pimm.core.errors import ConfigError
from pimm.core.logger import CONSOLE_LOGGER, RunLogger

__all__ = ["TextLogger"]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextLogger(RunLogger):
    """Writes the run's console lines (logger ``pimm.run``) and every stdlib logging record that reaches
    the root logger (library notices, warnings via ``logging.captureWarnings``) to ``run_dir/train.log``."""

    def __init__(self, filename: str = "train.log", level: str = "INFO") -> None:
        number = logging.getLevelName(level.upper())
        if not isinstance(number, int):
            raise ConfigError(f"text logger level {level!r} is not a logging level; use DEBUG, INFO, WARNING or ERROR")
        self.filename = filename
        self.level = number
        self.handler: logging.Handler | None = None
        self._root_level: int | None = None
        self._captures_warnings = False

    def start(self, run_dir: Path, config: dict[str, Any], resume_epoch: int = 0) -> None:
        """Open ``run_dir/train.log`` for appending (a resumed run continues the same file)."""
        super().start(run_dir, config, resume_epoch)
        handler = logging.FileHandler(Path(run_dir) / self.filename, mode="a", encoding="utf-8")
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.setLevel(self.level)
        self.handler = handler
        logging.getLogger(CONSOLE_LOGGER).addHandler(handler)
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level > self.level:
            self._root_level = root.level
            root.setLevel(max(self.level, logging.INFO))  # library DEBUG chatter stays out unless asked
        # route Python warnings through logging while the run lasts (unless someone already does)
        self._captures_warnings = getattr(warnings.showwarning, "__module__", "") != "logging"
        if self._captures_warnings:
            logging.captureWarnings(True)
        if resume_epoch:
            self._write(f"resumed after epoch {resume_epoch}")

    def _write(self, message: str) -> None:
        if self.handler is None:
            return
        record = logging.LogRecord(CONSOLE_LOGGER, logging.INFO, __file__, 0, message, None, None)
        self.handler.handle(record)

    def log_epoch(self, row: dict[str, Any]) -> None:
        """One line with the epoch's values."""
        parts = []
        for key, value in row.items():
            if key == "epoch" or value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            parts.append(f"{key} {value:.6g}" if isinstance(value, float) else f"{key} {value}")
        self._write(f"epoch {row.get('epoch')}: " + ", ".join(parts))

    def close(self, error: BaseException | None = None) -> None:
        """Note how the run ended, detach from the loggers and close the file."""
        if self.handler is None:
            return
        if error is not None:
            self._write(f"run failed: {type(error).__name__}: {error}")
        logging.getLogger(CONSOLE_LOGGER).removeHandler(self.handler)
        root = logging.getLogger()
        root.removeHandler(self.handler)
        if self._root_level is not None:
            root.setLevel(self._root_level)
            self._root_level = None
        if self._captures_warnings:
            logging.captureWarnings(False)
            self._captures_warnings = False
        self.handler.close()
        self.handler = None
