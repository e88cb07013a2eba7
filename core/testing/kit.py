"""The conformance kit's machinery: check registration, selection by tags, running, parametrizing.

A check is a plain function taking a :class:`ComponentRef` and raising on failure (``AssertionError``
or any exception). Checks register with :func:`check`, per kind, optionally gated by spec tags.
The check modules are the ``checks_*.py`` files of this package, imported on first use, so a
new domain adds checks by adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, UnknownPluginError
from ..factory import create
from ..registry import Entry, check_kind, get_registry
from ..specs import KINDS, ComponentSpec

__all__ = [
    "ComponentRef",
    "CheckDef",
    "CheckResult",
    "check",
    "checks_for",
    "iter_cases",
    "parametrize_components",
    "run_checks",
    "skip",
    "CheckSkipped",
]


class CheckSkipped(Exception):
    """Raised by :func:`skip`: the check does not apply to this component."""


def skip(reason: str) -> None:
    """Skip the running check: it does not apply to this component (a pytest skip under pytest)."""
    raise CheckSkipped(reason)


@dataclass(frozen=True)
class ComponentRef:
    """A registered component handed to a check: its spec, its plugin, and a way to build it."""

    entry: Entry

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def spec(self) -> ComponentSpec:
        return self.entry.spec

    @property
    def plugin(self) -> str:
        return self.entry.plugin.name

    @property
    def qualified_name(self) -> str:
        return self.entry.qualified_name

    def create(self, *args: Any, **options: Any) -> Any:
        """Build this exact component (by its qualified name) with ``options``."""
        return create(self.kind, self.qualified_name, *args, **options)

    def __repr__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class CheckDef:
    """A registered check and the components it applies to."""

    function: Callable[[ComponentRef], None]
    kind: str | None
    requires: frozenset[str]
    excludes: frozenset[str]
    marks: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.function.__name__

    def applies_to(self, entry: Entry) -> bool:
        if self.kind is not None and self.kind != entry.kind:
            return False
        tags = entry.spec.selection_tags
        return self.requires <= tags and not (self.excludes & tags)

    def __call__(self, component: ComponentRef) -> None:
        self.function(component)


@dataclass(frozen=True)
class _PytestCheck:
    """A check as handed to a pytest test: a skipped check becomes a pytest skip."""

    check_def: CheckDef

    def __call__(self, component: ComponentRef) -> None:
        import pytest

        try:
            self.check_def(component)
        except CheckSkipped as exc:
            pytest.skip(str(exc))

    def __repr__(self) -> str:
        return self.check_def.name


_CHECKS: list[CheckDef] = []
_LOADED = False


def check(
    kind: str | None = None,
    *,
    requires: Iterable[str] = (),
    excludes: Iterable[str] = (),
    marks: Iterable[str] = (),
) -> Callable[[Callable[[ComponentRef], None]], Callable[[ComponentRef], None]]:
    """Register a check for components of ``kind`` (all kinds when None).

    ``requires``: spec tags a component must have for the check to apply; ``excludes``: tags that
    exempt it; ``marks``: pytest mark names added to the generated cases (e.g. ``"large"``).
    """
    if kind is not None:
        check_kind(kind)

    def register(function: Callable[[ComponentRef], None]) -> Callable[[ComponentRef], None]:
        _CHECKS.append(CheckDef(function, kind, frozenset(requires), frozenset(excludes), tuple(marks)))
        return function

    return register


def _load_check_modules() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    package = importlib.import_module(__package__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("checks_"):
            importlib.import_module(f"{__package__}.{info.name}")


def checks_for(entry: Entry) -> list[CheckDef]:
    """The checks that apply to one registered component."""
    _load_check_modules()
    return [c for c in _CHECKS if c.applies_to(entry)]


def _select(kind: str | None, plugin: str | None, include: str | Iterable[str] | None) -> list[Entry]:
    import fnmatch

    registry = get_registry()
    if kind is not None:
        check_kind(kind)
    entries = registry.entries(kind)
    if plugin is not None:
        from ..manager import get_manager

        records = get_manager().records
        if plugin not in records:
            matches = [r.name for r in records.values() if r.distribution == plugin]
            if not matches:
                raise UnknownPluginError(
                    f"no plugin named {plugin!r}; installed plugins: {', '.join(sorted(records))} "
                    "(see `pimm plugins`)"
                )
            plugin_names = set(matches)
        else:
            plugin_names = {plugin}
        failed = [records[p] for p in plugin_names if records[p].status == "failed"]
        if failed:
            raise ConfigError(f"plugin {failed[0].name!r} failed to load: {failed[0].cause}")
        entries = [e for e in entries if e.plugin.name in plugin_names]
    if include is not None:
        patterns = [include] if isinstance(include, str) else list(include)
        entries = [e for e in entries if any(fnmatch.fnmatchcase(e.name, p) for p in patterns)]
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(entries, key=lambda e: (order[e.kind], e.plugin.name, e.name))


def case_id(entry: Entry, check_def: CheckDef) -> str:
    """The id of one case: ``kind/name::check_name`` (qualified when two plugins share the name)."""
    return f"{entry.kind}/{entry.name}::{check_def.name}"


def iter_cases(
    kind: str | None = None, plugin: str | None = None, include: str | Iterable[str] | None = None
) -> list[tuple[str, ComponentRef, CheckDef]]:
    """(id, component, check) for every applicable check of every selected component."""
    cases = []
    seen: dict[str, int] = {}
    for entry in _select(kind, plugin, include):
        for check_def in checks_for(entry):
            cid = case_id(entry, check_def)
            if cid in seen:  # same name from two plugins: qualify
                cid = f"{entry.kind}/{entry.qualified_name}::{check_def.name}"
            seen[cid] = 1
            cases.append((cid, ComponentRef(entry), check_def))
    return cases


def parametrize_components(
    kind: str | None = None,
    plugin: str | None = None,
    include: str | Iterable[str] | None = None,
    expected_failures: Mapping[str, str] | None = None,
) -> Any:
    """A ``pytest.mark.parametrize("component, check", ...)`` over the selected conformance cases.

    Use it on a test that runs ``check(component)``. ``expected_failures`` maps case ids
    (``"model/foo::check_forward"``) to the reason; those cases are strict xfails.
    """
    import pytest

    expected = dict(expected_failures or {})
    params = []
    cases = iter_cases(kind, plugin, include)
    if plugin is not None and not cases:
        # An empty parametrize would pass as "1 skipped": a plugin that provides nothing (a forgotten
        # @hookimpl, hooks returning nothing) must fail its own conformance test instead.
        raise ConfigError(
            f"plugin {plugin!r} provides no component matching kind={kind!r}, include={include!r}: nothing "
            "to check. Check that its hooks are decorated with @pimm.core.hookimpl and return specs "
            "(`pimm plugins` shows what each plugin provides)"
        )
    for cid, component, check_def in cases:
        marks = [getattr(pytest.mark, m) for m in check_def.marks]
        if "large" in component.spec.tags:
            marks.append(pytest.mark.large)
        reason = expected.pop(cid, None)
        if reason is not None:
            marks.append(pytest.mark.xfail(reason=reason, strict=True))
        params.append(pytest.param(component, _PytestCheck(check_def), id=cid, marks=marks))
    if expected:
        raise ConfigError(f"expected_failures names cases that do not exist: {sorted(expected)}")
    return pytest.mark.parametrize("component, check", params)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one case in :func:`run_checks`."""

    case_id: str
    passed: bool
    skipped: bool = False
    message: str = ""


def run_checks(
    kind: str | None = None, plugin: str | None = None, include: str | Iterable[str] | None = None
) -> list[CheckResult]:
    """Run the selected cases without pytest (``pimm check``); never raises for a failing case."""
    results = []
    for cid, component, check_def in iter_cases(kind, plugin, include):
        try:
            check_def(component)
        except CheckSkipped as exc:
            results.append(CheckResult(cid, True, True, str(exc)))
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" ({tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
            results.append(CheckResult(cid, False, False, f"{type(exc).__name__}: {exc}{where}"))
        else:
            results.append(CheckResult(cid, True))
    return results
