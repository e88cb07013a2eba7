"""``create``, ``list_names`` and ``get_spec``: the generic way to use any component.

``create`` resolves a name, validates the options against the component's options model, imports
the target and calls it. Errors name the kind, the component, the plugin and the offending field.
``create_entry`` does the same for an entry already resolved with ``resolve``, so code that needs
the spec first (a per-kind factory) resolves each component exactly once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .errors import ConfigError, OptionsError, PluginLoadError
from .registry import Entry, check_kind, get_registry
from .specs import ComponentSpec, import_target

__all__ = ["Origin", "create", "create_entry", "build_entry", "list_names", "get_spec", "resolve", "validate_options", "load_target"]


@dataclass(frozen=True)
class Origin:
    """How a component was made: kept on the result as ``obj.pimm_origin`` where possible."""

    kind: str
    name: str
    plugin: str
    options: dict[str, Any] = field(default_factory=dict)

    def as_config(self) -> dict[str, Any]:
        """A config dict that ``create`` accepts to make the same component again."""
        return {"kind": self.kind, "name": self.name, **self.options}


def resolve(kind: str, name: str, *, prefer_builtin: bool = False) -> Entry:
    """The registry entry for ``name`` (a name, alias or ``plugin::name``).

    ``prefer_builtin=True`` is for names core picks itself as defaults: when a third-party plugin
    provides the same bare name as a builtin plugin, the builtin's component is returned instead
    of an :class:`~pimm.core.errors.AmbiguousComponentError` (see docs/plugin-authors.md).
    """
    return get_registry().lookup(kind, name, prefer_builtin=prefer_builtin)


def get_spec(kind: str, name: str) -> ComponentSpec:
    """The spec registered under ``name`` for ``kind``."""
    return resolve(kind, name).spec


def list_names(
    kind: str,
    pattern: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
) -> list[str]:
    """Names registered for ``kind``, filtered by fnmatch patterns, in natural order.

    ``pattern`` and ``exclude`` take one wildcard string or a list of them; a name is kept when it
    matches any ``pattern`` and no ``exclude``.
    """
    return get_registry().names(kind, pattern, exclude)


def _describe_field_error(err: dict[str, Any], accepted: list[str]) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ())) or "<options>"
    if err.get("type") == "extra_forbidden":
        close = difflib.get_close_matches(loc, accepted, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown option {loc!r}{hint}"
    value = err.get("input")
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"option {loc!r}: {err.get('msg', 'invalid value')} (got {shown})"


def validate_options(entry: Entry, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``options`` against the entry's options model; return the full option dict."""
    model = entry.spec.options
    try:
        validated = model.model_validate(dict(options))
    except ValidationError as exc:
        accepted = list(model.model_fields)
        problems = "; ".join(_describe_field_error(e, accepted) for e in exc.errors())
        raise OptionsError(
            f"invalid options for {entry.kind} {entry.name!r} ({entry.plugin.provider}): {problems}. "
            f"Accepted options: {', '.join(accepted) or 'none'} (see `pimm info {entry.kind} {entry.name}`)."
        ) from None
    return {name: getattr(validated, name) for name in model.model_fields}


def load_target(entry: Entry) -> Any:
    """Import the entry's target, turning an import failure into a clear plugin error."""
    try:
        return import_target(entry.spec.target)
    except Exception as exc:
        raise PluginLoadError(
            f"cannot import {entry.spec.target!r} for {entry.kind} {entry.name!r} "
            f"({entry.plugin.provider}): {type(exc).__name__}: {exc}. Reinstall or update that plugin."
        ) from exc


def _split_config(config: Mapping[str, Any], options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    if "kind" not in config or "name" not in config:
        raise ConfigError(
            f"a component config needs 'kind' and 'name' keys, got keys {sorted(config)}; "
            "e.g. {'kind': 'model', 'name': 'resnet18', 'num_classes': 10}"
        )
    rest = {k: v for k, v in config.items() if k not in ("kind", "name")}
    return config["kind"], config["name"], {**rest, **options}


def create(kind_or_config: str | Mapping[str, Any], name: str | None = None, /, *args: Any, **options: Any) -> Any:
    """Build a component: ``create(kind, name, **options)`` or ``create({"kind": ..., "name": ..., ...})``.

    Positional ``args`` go to the target unvalidated (an optimizer's parameters, for instance);
    keyword options are validated against the component's options model first.
    """
    if isinstance(kind_or_config, Mapping):
        if name is not None:
            args = (name, *args)
        kind, name, options = _split_config(kind_or_config, options)
    else:
        kind = kind_or_config
        if name is None:
            raise ConfigError(f"create({kind!r}) needs a component name, e.g. create({kind!r}, 'NAME')")
    check_kind(kind)
    return create_entry(resolve(kind, name), *args, **options)


def create_entry(entry: Entry, /, *args: Any, **options: Any) -> Any:
    """Build the component of an already resolved ``entry`` (from :func:`resolve`) with ``options``.

    Same result as :func:`create` without resolving the name again. A kind whose spec class names a
    ``creator`` (models: pretrained config, weights, ``features_only``) is built by that function,
    so ``create("model", name)`` and ``create_model(name)`` return the same kind of object.
    """
    if not isinstance(entry, Entry):
        raise ConfigError(
            f"create_entry() takes a registry entry from pimm.core.factory.resolve(kind, name), got "
            f"{type(entry).__name__} {entry!r:.60}; to build by name use create(kind, name, ...)"
        )
    creator = type(entry.spec).creator
    if creator:
        return import_target(creator)(entry, *args, **options)
    return build_entry(entry, *args, **options)


def build_entry(entry: Entry, /, *args: Any, **options: Any) -> Any:
    """Validate ``options``, import the entry's target and call it: the bare build, no kind steps.

    The result carries ``pimm_origin`` (:class:`Origin`) where it can hold an attribute.
    """
    validated = validate_options(entry, options)
    target = load_target(entry)
    obj = target(*args, **entry.spec.call_args(validated))
    try:
        obj.pimm_origin = Origin(entry.kind, entry.name, entry.plugin.name, validated)
    except (AttributeError, TypeError):
        pass  # immutable results (builtins, slotted classes) simply don't carry their origin
    return obj
