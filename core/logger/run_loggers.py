"""The loggers of one run: parsed from ``--log``, checked up front, called together."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..factory import create, resolve
from ..specs import LoggerSpec

__all__ = ["RunLoggers", "parse_logger_names", "check_requirements"]


def parse_logger_names(value: str | Iterable[str] | None) -> list[str]:
    """``"csv, tensorboard"`` or ``["csv", "tensorboard"]`` -> ``["csv", "tensorboard"]`` (duplicates dropped)."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for part in parts:
        name = str(part).strip()
        if name and name not in names:
            names.append(name)
    return names


def check_requirements(name: str) -> LoggerSpec:
    """The spec of logger ``name``, after checking its ``requires`` modules are importable."""
    entry = resolve("logger", name)
    spec: LoggerSpec = entry.spec  # type: ignore[assignment]  # one spec class per kind
    missing = [mod for mod in spec.requires if importlib.util.find_spec(mod) is None]
    if missing:
        hint = spec.install_hint or f"pip install {' '.join(missing)}"
        raise ConfigError(f"logger {entry.name!r} needs {', '.join(missing)}, which is not installed: {hint}")
    return spec


class RunLoggers:
    """Creates loggers by name and forwards ``start`` / ``log_epoch`` / ``close`` to each of them."""

    def __init__(self, names: Sequence[str], options: dict[str, dict[str, Any]] | None = None) -> None:
        options = options or {}
        self.names = list(names)
        for name in self.names:
            check_requirements(name)
        self.loggers = [create("logger", name, **options.get(name, {})) for name in self.names]

    def start(self, run_dir: Path, config: dict[str, Any], resume_epoch: int = 0) -> None:
        """Start every logger."""
        for logger in self.loggers:
            logger.start(Path(run_dir), config, resume_epoch)

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Give every logger the epoch's row (each gets its own copy)."""
        for logger in self.loggers:
            logger.log_epoch(dict(row))

    def close(self, error: BaseException | None = None) -> None:
        """Close every logger; one failing to close is a warning, the others still close."""
        for name, logger in zip(self.names, self.loggers):
            try:
                logger.close(error)
            except Exception as exc:  # closing must not hide the run's own result
                warnings.warn(f"logger {name!r} failed to close: {type(exc).__name__}: {exc}", stacklevel=2)
