"""Lazy public names: a package lists ``name -> submodule`` and imports each on first access.

This is how ``pimm.core`` and its per-kind packages stay cheap to import (no torch until a name
that needs it is used) while still offering their public names at the package level.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, table: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose names in ``table`` live in the named submodules.

    ``table`` maps a public name to a module (relative to ``package`` when it starts with '.'); the
    value is imported on first access and cached on the package.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
