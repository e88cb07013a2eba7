"""The exception hierarchy. Every error pimm raises on purpose is a :class:`PimmError`.

Each message says what was wrong and what to do about it. Where a Python built-in exception is
the natural thing to catch, the pimm error subclasses it too (an unknown name is also a
``KeyError``, bad options are also a ``ValueError``), so existing ``except`` clauses keep working.
"""

from __future__ import annotations

__all__ = [
    "PimmError",
    "PluginError",
    "PluginLoadError",
    "UnknownPluginError",
    "SpecError",
    "LookupFailure",
    "UnknownComponentError",
    "AmbiguousComponentError",
    "OptionsError",
    "ConfigError",
]


class PimmError(Exception):
    """Base class of every error pimm raises deliberately."""


class PluginError(PimmError):
    """A plugin could not be used."""


class PluginLoadError(PluginError):
    """A plugin failed to import or to register (raised only in strict mode; otherwise warned)."""


class UnknownPluginError(PluginError, KeyError):
    """A plugin name (in ``PIMM_BLOCK_PLUGINS``, ``pimm check`` ...) matches no plugin."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SpecError(PluginError, TypeError):
    """A plugin returned something that is not a valid spec of the hook's kind."""


class LookupFailure(PimmError, LookupError):
    """A component name could not be resolved to exactly one component."""

    def __str__(self) -> str:
        # KeyError/LookupError would repr() a single argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class UnknownComponentError(LookupFailure, KeyError):
    """No registered component of that kind has that name."""


class AmbiguousComponentError(LookupFailure):
    """Two or more plugins provide a component of that kind under the same name."""


class OptionsError(PimmError, ValueError):
    """Options passed to ``create`` do not match the component's options model."""


class ConfigError(PimmError, ValueError):
    """A configuration value (config dict, environment variable, argument) is malformed."""
