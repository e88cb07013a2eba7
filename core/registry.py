"""The registry: every component of every kind, built from the plugins' hook results.

Built on first use and rebuilt whenever the set of plugins changes. Lookups never silently pick
one of two providers: a name that two plugins provide raises :class:`AmbiguousComponentError`
(naming both and the ways out), and ``plugin::name`` always resolves. Unknown names raise
:class:`UnknownComponentError` (also a ``KeyError``) with the closest names, the plugins that
failed and the plugins that are blocked.

One exception to "never pick": where core itself uses a bare name as its own default (a model's
``global_pool='avg'``, the ``tar``/``folder`` reader fallback, the transform factory's building
blocks), it looks the name up with ``prefer_builtin=True``, and a builtin plugin's component wins
over a third party's component of the same name (which stays reachable as ``plugin::name``).

A hook implementation must not look components up while the registry is being built (there is
no registry yet): such a call raises :class:`PluginError` inside that hook, which fails that
plugin only, instead of deadlocking.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .errors import (
    AmbiguousComponentError,
    ConfigError,
    LookupFailure,
    PluginError,
    SpecError,
    UnknownComponentError,
)
from .hookspecs import HOOK_FOR_KIND
from .manager import ENV_BLOCK, PluginRecord, get_manager
from .plugin_record import contain
from .specs import KINDS, SPEC_CLASSES, ComponentSpec

__all__ = ["Entry", "Registry", "get_registry", "natural_key", "check_kind", "QUALIFIER"]

QUALIFIER = "::"


def natural_key(text: str) -> list[Any]:
    """Sort key: lower-case, digit runs compared as numbers (resnet18 < resnet26 < resnet101)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text.lower())]


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is one of :data:`KINDS`, else raise a clear error."""
    if kind not in KINDS:
        close = difflib.get_close_matches(str(kind), KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown component kind {kind!r}{hint}; kinds are: {', '.join(KINDS)}")
    return kind


@dataclass(frozen=True)
class Entry:
    """One registered component: its spec and the plugin that provided it."""

    spec: ComponentSpec
    plugin: PluginRecord

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin.name}{QUALIFIER}{self.spec.name}"


def _as_patterns(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if v]


_DEFAULTS_CHECKED: dict[type, str] = {}


def _names_a_missing_component(error: object) -> bool:
    """True when a validator rejected a default because a component it names is not registered.

    That is not the options model's fault (the builtin ``pools`` plugin may be blocked, leaving a
    model's ``global_pool='avg'`` unresolvable): it is reported when the component is created.
    Validators usually convert the lookup error into a ``ValueError``; the lookup error stays
    reachable as the ``__cause__`` or ``__context__``.
    """
    seen = 0
    while isinstance(error, BaseException) and seen < 5:
        if isinstance(error, LookupFailure):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _option_defaults_problem(options: type) -> str:
    """'' if the options model's defaults pass its own validation, else what fails (cached per class)."""
    if options in _DEFAULTS_CHECKED:
        return _DEFAULTS_CHECKED[options]
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in options.model_fields.items()
        if not field.is_required()
    }
    problem = ""
    try:
        options.model_validate(defaults)
    except ValidationError as exc:
        errors = [
            e for e in exc.errors()
            if e.get("type") != "missing"  # required fields have no default
            and not _names_a_missing_component(e.get("ctx", {}).get("error"))
        ]
        problem = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or '<model>'}={e.get('input')!r}: {e.get('msg')}"
            for e in errors
        )
    except LookupFailure:
        pass  # a default naming a component that is not registered now (see _names_a_missing_component)
    except Exception as exc:  # a validator that raises something else is just as broken
        problem = f"{type(exc).__name__}: {exc}"
    _DEFAULTS_CHECKED[options] = problem
    return problem


def _collect(record: PluginRecord, kind: str, function: Any) -> list[ComponentSpec]:
    """Call one plugin's hook and check that it returned specs of the right kind."""
    spec_cls = SPEC_CLASSES[kind]
    hook = HOOK_FOR_KIND[kind]
    result = function()
    if result is None:
        return []
    if isinstance(result, (ComponentSpec, str, bytes, dict)) or not isinstance(result, Iterable):
        raise SpecError(f"{hook}() must return an iterable of {spec_cls.__name__}, got {type(result).__name__}")
    specs = list(result)
    for item in specs:
        if not isinstance(item, spec_cls):
            raise SpecError(f"{hook}() returned {type(item).__name__} {item!r:.80}, expected {spec_cls.__name__}")
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecError(f"{hook}() returned the name(s) {dupes} more than once")
    return specs


class Registry:
    """Name → component tables for one set of loaded plugins."""

    def __init__(self, entries: list[Entry], failed: list[PluginRecord],
                 blocked: list[PluginRecord] | None = None) -> None:
        self.failed = failed
        self.blocked = list(blocked or [])
        self._names: dict[str, dict[str, list[Entry]]] = {k: {} for k in KINDS}
        self._aliases: dict[str, dict[str, list[Entry]]] = {k: {} for k in KINDS}
        self._deprecated: dict[str, dict[str, tuple[Entry, str]]] = {k: {} for k in KINDS}
        self._qualified: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}
        for entry in entries:
            kind = entry.kind
            self._names[kind].setdefault(entry.name, []).append(entry)
            self._qualified[kind][entry.qualified_name] = entry
            for alias in entry.spec.aliases:
                self._aliases[kind].setdefault(alias, []).append(entry)
                self._qualified[kind][f"{entry.plugin.name}{QUALIFIER}{alias}"] = entry
            for old, new in getattr(entry.spec, "deprecated_names", {}).items():
                self._deprecated[kind][old] = (entry, new)

    @classmethod
    def build(cls) -> Registry:
        """Call every active plugin's hooks and index the results."""
        manager = get_manager()
        manager.ensure_loaded()
        per_plugin: dict[str, list[Entry]] = {}
        bad: set[str] = set()
        for kind in KINDS:
            for record, function in manager.hook_functions(HOOK_FOR_KIND[kind]):
                if record.name in bad:
                    continue
                try:
                    specs = _collect(record, kind, function)
                except BaseException as exc:  # a broken plugin must not take the others down
                    contain(exc)
                    bad.add(record.name)
                    per_plugin.pop(record.name, None)
                    manager.mark_failed(record.name, f"{HOOK_FOR_KIND[kind]}() failed: {type(exc).__name__}: {exc}", exc)
                    continue
                per_plugin.setdefault(record.name, []).extend(Entry(s, record) for s in specs)
        entries: list[Entry] = []
        for name, plugin_entries in per_plugin.items():
            record = manager.records[name]
            record.counts = {k: sum(1 for e in plugin_entries if e.kind == k) for k in KINDS}
            entries.extend(plugin_entries)
        failed = [r for r in manager.records.values() if r.status == "failed"]
        blocked = [r for r in manager.records.values() if r.status == "blocked"]
        return cls(entries, failed, blocked)

    def option_default_problems(self) -> dict[str, str]:
        """Plugin name -> why one of its components' options defaults fail their own validation.

        Run once the registry exists (option validators may look up other components, e.g. a
        model's ``global_pool`` default names a pool).
        """
        problems: dict[str, str] = {}
        for entry in self.entries():
            if entry.plugin.name in problems:
                continue
            problem = _option_defaults_problem(entry.spec.options)
            if problem:
                problems[entry.plugin.name] = (
                    f"{HOOK_FOR_KIND[entry.kind]}() returned {entry.kind} {entry.name!r} whose options model "
                    f"{entry.spec.options.__name__} has defaults that fail its own validation: {problem}; "
                    "fix the defaults (or the constraints)"
                )
        return problems

    # -- lookups --------------------------------------------------------------------------------

    def entries(self, kind: str | None = None) -> list[Entry]:
        """Every entry (of one kind, or of all kinds), duplicates included."""
        kinds = [check_kind(kind)] if kind else list(KINDS)
        return [e for k in kinds for entries in self._names[k].values() for e in entries]

    def lookup(self, kind: str, name: str, *, prefer_builtin: bool = False) -> Entry:
        """Resolve a name, an alias or a qualified ``plugin::name`` to exactly one entry.

        ``prefer_builtin``: when several plugins provide the bare ``name`` and exactly one of them
        is a builtin plugin, return the builtin's entry instead of raising. Core uses this for the
        names it picks itself as defaults; users' own names never take this path implicitly.
        """
        check_kind(kind)
        if not isinstance(name, str):
            raise ConfigError(f"a {kind} name must be a string, got {type(name).__name__} {name!r}")
        if QUALIFIER in name:
            entry = self._qualified[kind].get(name)
            if entry is None:
                raise self._unknown(kind, name)
            return entry
        found = self._names[kind].get(name) or self._aliases[kind].get(name)
        if not found:
            raise self._unknown(kind, name)
        if len(found) > 1:
            builtin = [e for e in found if e.plugin.source == "builtin"]
            if prefer_builtin and len(builtin) == 1:
                return builtin[0]
            raise self._ambiguous(kind, name, found)
        return found[0]

    def deprecated(self, kind: str, name: str) -> tuple[Entry, str] | None:
        """(entry, new name) when ``name`` is a deprecated name of some component."""
        return self._deprecated[check_kind(kind)].get(name)

    def names(
        self,
        kind: str,
        pattern: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
    ) -> list[str]:
        """Registered names of ``kind`` matching any fnmatch ``pattern`` and no ``exclude``, naturally sorted."""
        check_kind(kind)
        names = list(self._names[kind])
        include = _as_patterns(pattern)
        if include:
            names = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in include)]
        for ex in _as_patterns(exclude):
            names = [n for n in names if not fnmatch.fnmatchcase(n, ex)]
        return sorted(names, key=natural_key)

    # -- errors ---------------------------------------------------------------------------------

    def _unknown(self, kind: str, name: str) -> UnknownComponentError:
        candidates = list(self._names[kind]) + list(self._aliases[kind])
        bare = name.split(QUALIFIER)[-1]
        close = difflib.get_close_matches(bare, candidates, n=5, cutoff=0.6)
        parts = [f"unknown {kind} {name!r}."]
        if QUALIFIER in name:
            plugin = name.split(QUALIFIER)[0]
            providers = sorted({e.plugin.name for e in self.entries(kind)})
            if plugin not in providers:
                parts.append(f"No plugin {plugin!r} provides {kind}s (plugins that do: {', '.join(providers) or 'none'}).")
        if close:
            parts.append(f"Did you mean: {', '.join(close)}?")
        elif not candidates:
            parts.append(f"No {kind} components are registered.")
        else:
            parts.append(f"Run `pimm list {kind}` to see the {len(self._names[kind])} registered names.")
        if self.failed:
            failed = "; ".join(f"{r.name} ({r.cause})" for r in self.failed)
            parts.append(f"Note: {len(self.failed)} plugin(s) failed to load and may have provided it: {failed}.")
        if self.blocked:
            blocked = ", ".join(repr(r.name) for r in self.blocked)
            parts.append(f"Note: plugin(s) {blocked} are blocked by {ENV_BLOCK} and may have provided it; "
                         f"remove them from {ENV_BLOCK} to use their components.")
        return UnknownComponentError(" ".join(parts))

    def _ambiguous(self, kind: str, name: str, found: list[Entry]) -> AmbiguousComponentError:
        providers = " and ".join(e.plugin.provider for e in found)
        qualified = " or ".join(repr(e.qualified_name) for e in found)
        block = found[-1].plugin.distribution or found[-1].plugin.name
        return AmbiguousComponentError(
            f"{kind} {name!r} is provided by {len(found)} plugins: {providers}. Pick one with a qualified "
            f"name ({qualified}), or block one of the plugins, e.g. {ENV_BLOCK}={found[-1].plugin.name}"
            f"{'' if block == found[-1].plugin.name else f' (or {block})'}."
        )


_CACHE: tuple[int, int, Registry] | None = None
_CACHE_LOCK = threading.RLock()
_BUILDING = threading.local()


def _build() -> Registry:
    _BUILDING.active = True
    try:
        return Registry.build()
    finally:
        _BUILDING.active = False


def get_registry() -> Registry:
    """The registry for the current set of plugins (built on first use, rebuilt on change).

    In strict mode (``PIMM_STRICT_PLUGINS=1``) this raises every time while a loaded plugin is failed.
    """
    global _CACHE
    manager = get_manager()
    manager.ensure_loaded()
    key = (manager.serial, manager.generation)
    cached = _CACHE
    if cached is not None and cached[:2] == key:
        return cached[2]
    if getattr(_BUILDING, "active", False):
        raise PluginError(
            "a hook implementation looked up components (core.list_names, get_spec, create ...) while "
            "pimm's registry was being built from the hooks; a collection hook must return its specs "
            "without using the registry (do such lookups when the component is created instead)"
        )
    with _CACHE_LOCK:
        cached = _CACHE
        if cached is not None and cached[:2] == key:
            return cached[2]
        registry = _build()
        _CACHE = (manager.serial, manager.generation, registry)
        problems = registry.option_default_problems()
        if problems:  # a plugin whose options defaults are invalid is left out, like any broken plugin
            for name, cause in problems.items():
                manager.mark_failed(name, cause)
            registry = _build()
            _CACHE = (manager.serial, manager.generation, registry)
    manager.raise_if_strict()
    return registry
