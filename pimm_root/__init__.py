"""pimm — pluggable image models.

This top-level package only answers ``pimm.__version__`` (the installed distribution's version,
read on first access); everything else lives in ``pimm.core`` (the kernel and the per-kind
machinery) and ``pimm.plugins`` (the builtin components). It imports nothing heavy, so
``import pimm`` and ``from pimm import core`` stay as cheap as before. In the source tree this
file is ``pimm_root/__init__.py`` (``setup.py`` maps it to ``pimm``).
"""

from __future__ import annotations

__all__ = ["__version__"]

# pimm.core and pimm.plugins live in their own source directories (setup.py maps them), not under
# this package's: this package is a namespace for them that also carries a version. Saying that
# it has no single location lets tools that walk packages by location (import-linter, checking
# the layer rule on pimm.core and pimm.plugins) treat them as the top-level trees they are.
if __spec__ is not None:
    __spec__.has_location = False


def _distribution_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pimm")
    except PackageNotFoundError:  # running from a source tree that was never installed
        from .core._version import __version__ as source_version

        return source_version


def __getattr__(name: str) -> str:
    if name == "__version__":
        value = _distribution_version()
        globals()["__version__"] = value  # computed once
        return value
    raise AttributeError(f"module 'pimm' has no attribute {name!r}")
