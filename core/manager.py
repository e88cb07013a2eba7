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
out; every other plugin keeps working. So is a plugin module that implements no hook at all (a
forgotten ``@hookimpl``), one whose hook name is misspelled (with the closest hook name), one that
marks a collection hook ``tryfirst``/``trylast``/``hookwrapper``/``wrapper`` (pimm calls those
hooks one plugin at a time, so the markers could only be silently ignored), and one that calls
``sys.exit()`` or raises another ``BaseException`` (only a real Ctrl-C, ``KeyboardInterrupt``,
propagates). ``PIMM_STRICT_PLUGINS=1`` turns any such problem into an error, raised every time the
failing set of plugins is used, which is what a plugin author wants in CI.

A plugin object already registered under one name is never registered again under another (an
installed plugin also named in ``PIMM_PLUGINS`` is loaded once; :func:`register_plugin` raises).
"""

from __future__ import annotations

import importlib
import itertools
import os
import threading
import warnings
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginLoadError, UnknownPluginError
from .hook_rules import hook_problem
from .plugin_record import (
    PimmPluginWarning,
    PluginRecord,
    contain,
    describe_exception,
    distribution_of_module,
    failure_message,
)

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
    ("schedulers", "pimm.plugins.schedulers"),
    ("losses", "pimm.plugins.losses"),
    ("loggers", "pimm.plugins.loggers"),
    ("run_control", "pimm.plugins.run_control"),
)

ENTRY_POINT_GROUP = "pimm"

ENV_BLOCK = "PIMM_BLOCK_PLUGINS"
ENV_DISABLE_AUTOLOAD = "PIMM_DISABLE_PLUGIN_AUTOLOAD"
ENV_PLUGINS = "PIMM_PLUGINS"
ENV_STRICT = "PIMM_STRICT_PLUGINS"

_TRUE = {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str]:
    raw = os.environ.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _pimm_version() -> str:
    from ._version import __version__

    return __version__


class PluginManager:
    """Loads plugins and keeps one :class:`PluginRecord` per plugin seen."""

    def __init__(self) -> None:
        self._pm = self._new_pluggy()
        self.records: dict[str, PluginRecord] = {}
        self.generation = 0
        self.serial = next(_SERIAL)
        self.strict = False
        self._loaded = False
        self._loading = False
        self._errors: dict[str, BaseException | None] = {}
        self._lock = threading.RLock()

    @staticmethod
    def _new_pluggy() -> pluggy.PluginManager:
        pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        return pm

    # -- loading -------------------------------------------------------------------------------

    def ensure_loaded(self) -> None:
        """Load every plugin once, in the documented order; in strict mode raise if any failed.

        The strict-mode error is raised on every call while a plugin of the loaded set is failed,
        not only on the call that loaded it.
        """
        self._load_once()
        self.raise_if_strict()

    def _load_once(self) -> None:
        with self._lock:
            if self._loaded or self._loading:  # _loading: a plugin's import-time code called back
                return
            self._loading = True
            try:
                self._load_all()
                self._loaded = True
            finally:
                self._loading = False

    def _load_all(self) -> None:
        self._pm = self._new_pluggy()  # a load interrupted by Ctrl-C starts again from scratch
        self.records = {}
        self._errors = {}
        self.strict = _env_flag(ENV_STRICT)
        blocked = set(_env_list(ENV_BLOCK))
        version = _pimm_version()
        for name, module in BUILTIN_PLUGINS:
            record = PluginRecord(name, module, "pimm", version, source="builtin")
            self._load_module(record, blocked)
        if not _env_flag(ENV_DISABLE_AUTOLOAD):
            self._load_entry_points(blocked)
        for module in _env_list(ENV_PLUGINS):
            dist, dist_version = distribution_of_module(module)
            record = PluginRecord(module, module, dist, dist_version, source="env")
            self._load_module(record, blocked)
        self._check_blocked(blocked)
        self.generation += 1

    def raise_if_strict(self) -> None:
        """In strict mode, raise :class:`PluginLoadError` naming every failed plugin (if any)."""
        if not self.strict:
            return
        failed = [r for r in self.records.values() if r.status == "failed"]
        if not failed:
            return
        lines = "; ".join(failure_message(r) for r in failed)
        raise PluginLoadError(f"{lines} ({ENV_STRICT}=1 makes this an error).") from self._errors.get(failed[0].name)

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
        except BaseException as exc:  # any import-time failure of a plugin is contained, sys.exit() too
            contain(exc)
            self._fail(record, f"import failed: {describe_exception(exc)}", exc)
            return
        self._register(record, obj)

    def _load_entry_points(self, blocked: set[str]) -> None:
        import importlib_metadata

        try:
            eps = importlib_metadata.entry_points(group=ENTRY_POINT_GROUP)
        except Exception as exc:  # corrupted metadata somewhere on sys.path
            self._fail(PluginRecord("<entry points>", source="entry-point"), describe_exception(exc), exc)
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
            except BaseException as exc:
                contain(exc)
                self._fail(record, f"import failed: {describe_exception(exc)}", exc)
                continue
            self._register(record, obj)

    def registered_name(self, obj: Any) -> str | None:
        """The plugin name ``obj`` is registered under, or None."""
        for name, record in self.records.items():
            if record.obj is obj and record.status == "active":
                return name
        return None

    def _register(self, record: PluginRecord, obj: Any) -> None:
        if self.registered_name(obj) is not None:
            # The same module reached twice (an entry point also named in PIMM_PLUGINS): it is
            # active under its first name already; registering it again would only remove that.
            return
        record.obj = obj
        problem = hook_problem(self._pm, obj)
        if problem is not None:
            self._fail(record, problem)
            return
        try:
            self._pm.register(obj, name=record.name)
            self._pm.check_pending()
        except BaseException as exc:  # pluggy validation: bad signature, name clash
            contain(exc)
            if self._pm.is_registered(obj):
                self._pm.unregister(obj)
            self._fail(record, f"invalid hooks: {describe_exception(exc)}", exc)
            return
        if not self._pm.get_hookcallers(obj):
            self._pm.unregister(obj)
            self._fail(record, "it implements no pimm hook: no function is decorated with @pimm.core.hookimpl "
                               "(forgotten @hookimpl?), so it would provide nothing")
            return
        record.status = "active"
        self._add_record(record)

    def _add_record(self, record: PluginRecord) -> None:
        self.records[record.name] = record

    def _fail(self, record: PluginRecord, cause: str, exc: BaseException | None = None) -> None:
        record.status = "failed"
        record.cause = cause
        self._add_record(record)
        self._errors[record.name] = exc
        self.report_failure(record, exc)

    def report_failure(self, record: PluginRecord, exc: BaseException | None = None) -> None:
        """Warn once about a failed plugin (strict mode: :meth:`raise_if_strict` raises instead)."""
        if self.strict:
            return
        key = (record.name, record.cause)
        if key not in _WARNED:
            _WARNED.add(key)
            warnings.warn(failure_message(record) + "; other components keep working, run `pimm plugins` "
                          "for details.", PimmPluginWarning, stacklevel=4)

    def mark_failed(self, name: str, cause: str, exc: BaseException | None = None) -> None:
        """Record that an active plugin's hooks misbehaved; the registry leaves it out."""
        with self._lock:
            record = self.records[name]
            if record.obj is not None and self._pm.is_registered(record.obj):
                self._pm.unregister(record.obj)
            self._fail(record, cause, exc)

    # -- runtime registration -------------------------------------------------------------------

    def register(self, obj: Any, name: str | None = None) -> str:
        """Register a plugin object or module in-process; returns the plugin name used.

        Raises :class:`PluginLoadError` when the name is taken or when ``obj`` is already registered
        under another name (the existing registration and its components stay as they are).
        """
        with self._lock:
            self._load_once()
            if name is None:
                name = obj.__name__ if isinstance(obj, ModuleType) else type(obj).__name__
            existing = self.registered_name(obj)
            if existing is not None:
                raise PluginLoadError(
                    f"{obj!r:.80} is already registered as plugin {existing!r}; a plugin is registered once. "
                    f"Use it as {existing!r}, or unregister_plugin({existing!r}) first to register it as {name!r}"
                )
            if name in self.records and self.records[name].status != "failed":
                raise PluginLoadError(
                    f"a plugin named {name!r} is already registered; pass another name= or "
                    f"unregister_plugin({name!r}) first"
                )
            module = obj.__name__ if isinstance(obj, ModuleType) else None
            dist, version = distribution_of_module(module) if module else (None, None)
            record = PluginRecord(name, module, dist, version, source="runtime")
            self._register(record, obj)
            self.generation += 1
            if record.status == "failed" and self.strict:
                raise PluginLoadError(f"{failure_message(record)} ({ENV_STRICT}=1 makes this an error).") \
                    from self._errors.get(name)
            return name

    def unregister(self, name_or_obj: Any) -> None:
        """Remove a plugin by name or by the object that was registered."""
        with self._lock:
            self._load_once()
            name = name_or_obj if isinstance(name_or_obj, str) else self._name_of(name_or_obj)
            record = self.records.pop(name, None)
            if record is None:
                raise UnknownPluginError(
                    f"no plugin named {name!r} is registered; registered: {', '.join(sorted(self.records))}"
                )
            self._errors.pop(name, None)
            if record.obj is not None and self._pm.is_registered(record.obj) and self.registered_name(record.obj) is None:
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
