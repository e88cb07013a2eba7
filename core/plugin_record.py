"""What pimm records about each plugin, and the small helpers that describe plugin failures.

Kernel-internal: :mod:`pimm.core.manager` re-exports :class:`PluginRecord` and
:class:`PimmPluginWarning`, which are the public names.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PimmPluginWarning", "PluginRecord", "failure_message", "describe_exception", "contain",
           "distribution_of_module"]


class PimmPluginWarning(UserWarning):
    """A plugin could not be loaded and was skipped (see ``pimm plugins``)."""


@dataclass
class PluginRecord:
    """What pimm knows about one plugin: where it came from and whether it works."""

    name: str
    module: str | None = None
    distribution: str | None = None
    version: str | None = None
    source: str = "builtin"  # builtin | entry-point | env | runtime
    status: str = "active"  # active | blocked | failed
    cause: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    obj: Any = field(default=None, repr=False, compare=False)

    @property
    def provider(self) -> str:
        """'plugin (distribution version)' for messages."""
        if self.distribution:
            return f"plugin {self.name!r} ({self.distribution} {self.version or '?'})"
        return f"plugin {self.name!r}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``pimm plugins --json``)."""
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "source": self.source,
            "status": self.status,
            "cause": self.cause,
            "counts": dict(self.counts),
        }


def failure_message(record: PluginRecord) -> str:
    """'pimm plugin NAME (DIST VERSION) was skipped: CAUSE', for warnings and strict-mode errors."""
    where = f" ({record.distribution} {record.version})" if record.distribution else ""
    return f"pimm plugin {record.name!r}{where} was skipped: {record.cause}"


def describe_exception(exc: BaseException) -> str:
    """'Type: first line of the message', for a plugin record's cause."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def contain(exc: BaseException) -> None:
    """Re-raise a real Ctrl-C; every other exception of a plugin (``SystemExit`` too) is contained."""
    if isinstance(exc, KeyboardInterrupt):
        raise exc


_PACKAGES: tuple[tuple[tuple[str, int], ...], dict[str, list[str]]] | None = None


def _sys_path_state() -> tuple[tuple[str, int], ...]:
    state = []
    for entry in sys.path:
        try:
            state.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            state.append((entry, -1))
    return tuple(state)


def _packages_distributions() -> dict[str, list[str]]:
    """importlib_metadata.packages_distributions(), kept while sys.path and its folders are unchanged.

    The scan reads every installed distribution's file list (over a second with many installed);
    installing or removing a distribution changes its folder's mtime, which invalidates the copy.
    """
    import importlib_metadata

    global _PACKAGES
    state = _sys_path_state()
    if _PACKAGES is None or _PACKAGES[0] != state:
        _PACKAGES = (state, dict(importlib_metadata.packages_distributions()))
    return _PACKAGES[1]


def distribution_of_module(module_name: str) -> tuple[str | None, str | None]:
    """Best-effort (distribution, version) of the installed package providing a module."""
    import importlib_metadata

    top = module_name.split(".")[0]
    try:
        dists = _packages_distributions().get(top, [])
    except Exception:  # metadata of unrelated broken installs must not break loading
        return None, None
    for dist_name in dists:
        try:
            return dist_name, importlib_metadata.version(dist_name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return None, None
