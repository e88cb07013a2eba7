"""Plugin loading: builtins, entry points one at a time, environment switches, failure records.

Order, on first use (never at import):

1. ``PIMM_BLOCK_PLUGINS=a,b`` names plugins (or distributions) that are not loaded at all.
2. The builtin plugins, from the explicit tuple :data:`BUILTIN_PLUGINS`.
3. Every entry point of group ``pimm``, each loaded on its own, unless
   ``PIMM_DISABLE_PLUGIN_AUTOLOAD=1``.
4. The modules named in ``PIMM_PLUGINS=pkg.mod,other.mod``.

Then plugins registered in-process with :func:`register_plugin` (tests, notebooks).

A plugin that fails to import, has a misspelled hook, raises in a hook or returns something that
is not a spec is recorded with its distribution, version and cause, warned about once and left
out; every other plugin keeps working. ``PIMM_STRICT_PLUGINS=1`` turns any such problem into an
error, which is what a plugin author wants in CI.
"""

from __future__ import annotations

import importlib
import itertools
import os
import threading
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginLoadError, UnknownPluginError

__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginRecord",
    "PluginManager",
    "PimmPluginWarning",
    "get_manager",
    "register_plugin",
    "unregister_plugin",
    "reset_plugins",
]

#: Builtin plugins, loaded in this order: (plugin name, module).
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("pools", "pimm.plugins.pools"),
    ("resnet", "pimm.plugins.resnet"),
    ("vgg", "pimm.plugins.vgg"),
    ("augment", "pimm.plugins.augment"),
    ("readers", "pimm.plugins.readers"),
    ("optim", "pimm.plugins.optim"),
)

ENTRY_POINT_GROUP = "pimm"

ENV_BLOCK = "PIMM_BLOCK_PLUGINS"
ENV_DISABLE_AUTOLOAD = "PIMM_DISABLE_PLUGIN_AUTOLOAD"
ENV_PLUGINS = "PIMM_PLUGINS"
ENV_STRICT = "PIMM_STRICT_PLUGINS"

_TRUE = {"1", "true", "yes", "on"}


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


def _env_list(name: str) -> list[str]:
    raw = os.environ.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _describe_exception(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _pimm_version() -> str:
    from ._version import __version__

    return __version__


def _distribution_of_module(module_name: str) -> tuple[str | None, str | None]:
    """Best-effort (distribution, version) of the installed package providing a module."""
    import importlib_metadata

    top = module_name.split(".")[0]
    try:
        dists = importlib_metadata.packages_distributions().get(top, [])
    except Exception:  # metadata of unrelated broken installs must not break loading
        return None, None
    for dist_name in dists:
        try:
            return dist_name, importlib_metadata.version(dist_name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return None, None


class PluginManager:
    """Loads plugins and keeps one :class:`PluginRecord` per plugin seen."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.generation = 0
        self.serial = next(_SERIAL)
        self.strict = False
        self._loaded = False
        self._lock = threading.RLock()

    # -- loading -------------------------------------------------------------------------------

    def ensure_loaded(self) -> None:
        """Load every plugin once, in the documented order."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            self.strict = _env_flag(ENV_STRICT)
            blocked = set(_env_list(ENV_BLOCK))
            version = _pimm_version()
            for name, module in BUILTIN_PLUGINS:
                record = PluginRecord(name, module, "pimm", version, source="builtin")
                self._load_module(record, blocked)
            if not _env_flag(ENV_DISABLE_AUTOLOAD):
                self._load_entry_points(blocked)
            for module in _env_list(ENV_PLUGINS):
                dist, dist_version = _distribution_of_module(module)
                record = PluginRecord(module, module, dist, dist_version, source="env")
                self._load_module(record, blocked)
            self._check_blocked(blocked)
            self.generation += 1

    def _check_blocked(self, blocked: set[str]) -> None:
        known = set(self.records) | {r.distribution for r in self.records.values() if r.distribution}
        unknown = sorted(blocked - known)
        if unknown:
            available = ", ".join(sorted(self.records)) or "none"
            raise UnknownPluginError(
                f"{ENV_BLOCK} names {', '.join(repr(u) for u in unknown)}, which no installed plugin "
                f"has; known plugins: {available}. Fix the spelling or remove it from {ENV_BLOCK}."
            )

    def _is_blocked(self, record: PluginRecord, blocked: set[str]) -> bool:
        return record.name in blocked or (record.distribution is not None and record.distribution in blocked)

    def _load_module(self, record: PluginRecord, blocked: set[str]) -> None:
        if self._is_blocked(record, blocked):
            record.status = "blocked"
            self._add_record(record)
            return
        try:
            obj = importlib.import_module(record.module or record.name)
        except Exception as exc:  # any import-time failure of a plugin is contained
            self._fail(record, f"import failed: {_describe_exception(exc)}", exc)
            return
        self._register(record, obj)

    def _load_entry_points(self, blocked: set[str]) -> None:
        import importlib_metadata

        try:
            eps = importlib_metadata.entry_points(group=ENTRY_POINT_GROUP)
        except Exception as exc:  # corrupted metadata somewhere on sys.path
            self._fail(PluginRecord("<entry points>", source="entry-point"), _describe_exception(exc), exc)
            return
        seen: set[str] = set()
        for ep in sorted(eps, key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            record = PluginRecord(
                ep.name,
                ep.value,
                getattr(dist, "name", None),
                getattr(dist, "version", None),
                source="entry-point",
            )
            if ep.name in seen or ep.name in self.records:
                self._fail(record, f"another plugin is already named {ep.name!r}; rename the entry point")
                continue
            seen.add(ep.name)
            if self._is_blocked(record, blocked):
                record.status = "blocked"
                self._add_record(record)
                continue
            try:
                obj = ep.load()
            except Exception as exc:
                self._fail(record, f"import failed: {_describe_exception(exc)}", exc)
                continue
            self._register(record, obj)

    def _register(self, record: PluginRecord, obj: Any) -> None:
        record.obj = obj
        try:
            self._pm.register(obj, name=record.name)
            self._pm.check_pending()
        except Exception as exc:  # pluggy validation: misspelled hook, bad signature, name clash
            if self._pm.is_registered(obj):
                self._pm.unregister(obj)
            self._fail(record, f"invalid hooks: {_describe_exception(exc)}", exc)
            return
        record.status = "active"
        self._add_record(record)

    def _add_record(self, record: PluginRecord) -> None:
        self.records[record.name] = record

    def _fail(self, record: PluginRecord, cause: str, exc: BaseException | None = None) -> None:
        record.status = "failed"
        record.cause = cause
        self._add_record(record)
        self.report_failure(record, exc)

    def report_failure(self, record: PluginRecord, exc: BaseException | None = None) -> None:
        """Raise (strict mode) or warn once about a failed plugin."""
        where = f" ({record.distribution} {record.version})" if record.distribution else ""
        message = (
            f"pimm plugin {record.name!r}{where} was skipped: {record.cause}. "
            f"Other components keep working; run `pimm plugins` for details"
        )
        if self.strict:
            raise PluginLoadError(message + f" ({ENV_STRICT}=1 makes this an error).") from exc
        key = (record.name, record.cause)
        if key not in _WARNED:
            _WARNED.add(key)
            warnings.warn(message + ".", PimmPluginWarning, stacklevel=4)

    def mark_failed(self, name: str, cause: str, exc: BaseException | None = None) -> None:
        """Record that an active plugin's hooks misbehaved; the registry leaves it out."""
        with self._lock:
            record = self.records[name]
            self._fail(record, cause, exc)

    # -- runtime registration -------------------------------------------------------------------

    def register(self, obj: Any, name: str | None = None) -> str:
        """Register a plugin object or module in-process; returns the plugin name used."""
        with self._lock:
            self.ensure_loaded()
            if name is None:
                name = obj.__name__ if isinstance(obj, ModuleType) else type(obj).__name__
            if name in self.records and self.records[name].status != "failed":
                raise PluginLoadError(
                    f"a plugin named {name!r} is already registered; pass another name= or "
                    f"unregister_plugin({name!r}) first"
                )
            module = obj.__name__ if isinstance(obj, ModuleType) else None
            dist, version = _distribution_of_module(module) if module else (None, None)
            record = PluginRecord(name, module, dist, version, source="runtime")
            self._register(record, obj)
            self.generation += 1
            return name

    def unregister(self, name_or_obj: Any) -> None:
        """Remove a plugin by name or by the object that was registered."""
        with self._lock:
            self.ensure_loaded()
            name = name_or_obj if isinstance(name_or_obj, str) else self._name_of(name_or_obj)
            record = self.records.pop(name, None)
            if record is None:
                raise UnknownPluginError(
                    f"no plugin named {name!r} is registered; registered: {', '.join(sorted(self.records))}"
                )
            if record.obj is not None and self._pm.is_registered(record.obj):
                self._pm.unregister(record.obj)
            self.generation += 1

    def _name_of(self, obj: Any) -> str:
        for name, record in self.records.items():
            if record.obj is obj:
                return name
        raise UnknownPluginError(f"{obj!r} is not a registered pimm plugin")

    # -- hook access ----------------------------------------------------------------------------

    def hook_functions(self, hook_name: str) -> list[tuple[PluginRecord, Any]]:
        """(record, function) for each active plugin implementing ``hook_name``, in load order."""
        self.ensure_loaded()
        caller = getattr(self._pm.hook, hook_name)
        by_name = {impl.plugin_name: impl.function for impl in caller.get_hookimpls()}
        return [
            (record, by_name[name])
            for name, record in self.records.items()
            if name in by_name and record.status == "active"
        ]


_SERIAL = itertools.count()
_WARNED: set[tuple[str, str | None]] = set()
_MANAGER: PluginManager | None = None
_MANAGER_LOCK = threading.Lock()


def get_manager() -> PluginManager:
    """The process-wide plugin manager (created lazily; plugins load on first use)."""
    global _MANAGER
    if _MANAGER is None:
        with _MANAGER_LOCK:
            if _MANAGER is None:
                _MANAGER = PluginManager()
    return _MANAGER


def register_plugin(obj: Any, name: str | None = None) -> str:
    """Register a plugin (module or object with hookimpls) in this process; the registry follows."""
    return get_manager().register(obj, name=name)


def unregister_plugin(name_or_obj: Any) -> None:
    """Remove a plugin registered earlier (by name or object); the registry follows."""
    get_manager().unregister(name_or_obj)


def reset_plugins() -> None:
    """Forget every loaded plugin; the next use reloads them, re-reading the environment."""
    global _MANAGER
    with _MANAGER_LOCK:
        _MANAGER = None
