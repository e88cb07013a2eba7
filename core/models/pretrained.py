"""Pretrained configs: model-name parsing, tag resolution, overlays, and the listing functions.

Names follow timm: ``arch`` or ``arch.tag`` (split at the first '.'), where the tag picks one of
the spec's pretrained configs; a bare ``arch`` means its default tag (:attr:`ModelSpec.default_tag`:
the first tag with weights, else the first tag). ``hf-hub:org/name[@rev]`` and ``local-dir:DIR``
name a model by its saved config instead. Deprecated names resolve to their new ``arch.tag``
with a ``FutureWarning`` and are never listed.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError, UnknownComponentError
from ..registry import QUALIFIER, Entry, get_registry, natural_key
from ..specs import ModelSpec, PretrainedCfg

__all__ = [
    "SOURCES",
    "parse_model_name",
    "split_model_name_tag",
    "resolve_model_name",
    "resolve_model_entry",
    "make_pretrained_cfg",
    "resolve_pretrained_cfg",
    "cfg_to_dict",
    "get_pretrained_cfg",
    "get_pretrained_cfg_value",
    "is_model",
    "list_models",
    "list_modules",
    "list_pretrained",
]

#: Name prefixes that select where a model (config and weights) comes from.
SOURCES = {"hf-hub": "hf-hub", "hf_hub": "hf-hub", "local-dir": "local-dir", "local_dir": "local-dir"}

#: Names that are file-system paths: a drive letter (``C:\x``, ``C:/x``), a UNC or device path
#: (``\\server\share``, ``\\?\C:\x``), or anything holding a path separator before its first ':'.
_PATH_LIKE = re.compile(r"^(?:[A-Za-z]:[\\/]|[\\/]{2}|[^:]*[\\/])")


def _path_error(name: str) -> ConfigError:
    hub = "ORG/NAME" if re.match(r"^(?:[A-Za-z]:|[\\/]{2})", name) else name
    return ConfigError(
        f"model name {name!r} looks like a file-system path or a hub id, not a registered model name; "
        f"write 'local-dir:{name}' for a saved model directory or 'hf-hub:{hub}' for a Hugging Face "
        "hub model (`pimm list model` shows the registered names)"
    )

# Fields kept in model.pretrained_cfg even when None (timm keeps these three).
_KEEP_NONE = ("pool_size", "first_conv", "classifier")


def parse_model_name(name: str) -> tuple[str | None, str]:
    """``(source, rest)``: source is 'hf-hub', 'local-dir' or None for a registry name."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"a model name must be a non-empty string, got {name!r}")
    if QUALIFIER not in name and ":" in name:
        prefix, _, rest = name.partition(":")
        if prefix.lower() not in SOURCES and _PATH_LIKE.match(name):
            raise _path_error(name)
        source = SOURCES.get(prefix.lower()) if len(prefix) >= 2 else None
        if source is None:
            raise ConfigError(
                f"model name {name!r}: {prefix!r} is not a model source. Use 'hf-hub:org/name' for a "
                "Hugging Face hub model or 'local-dir:/path/to/dir' for a saved model directory."
            )
        if not rest:
            raise ConfigError(f"model name {name!r} names no {source} location after the ':'")
        return source, rest
    if "/" in name or "\\" in name:
        raise _path_error(name)
    return None, name


def split_model_name_tag(name: str) -> tuple[str, str | None]:
    """``'resnet50d.ra2_in1k'`` → ``('resnet50d', 'ra2_in1k')``; no tag → ``(name, None)``."""
    arch, sep, tag = name.partition(".")
    return arch, (tag if sep and tag else None)


def resolve_model_name(name: str) -> tuple[ModelSpec, str, str | None]:
    """(spec, registry name as given, tag) for a registry model name; deprecated names warn."""
    entry, arch, tag = resolve_model_entry(name)
    return entry.spec, arch, tag  # type: ignore[return-value]


def resolve_model_entry(name: str) -> tuple[Entry, str, str | None]:
    """(registry entry, registry name as given, tag) for a registry model name; deprecated names warn.

    The entry is resolved once; build from it with ``pimm.core.factory.build_entry``.
    """
    arch, tag = split_model_name_tag(name)
    registry = get_registry()
    try:
        entry = registry.lookup("model", arch)
    except UnknownComponentError:
        old = registry.deprecated("model", arch)
        if old is None:
            raise
        entry, new_name = old
        warnings.warn(
            f"model name {arch!r} is deprecated; use {new_name!r} instead (same weights)",
            FutureWarning,
            stacklevel=3,
        )
        new_arch, new_tag = split_model_name_tag(new_name)
        return entry, new_arch, tag or new_tag
    return entry, arch, tag


def make_pretrained_cfg(value: PretrainedCfg | Mapping[str, Any]) -> PretrainedCfg:
    """Validate a dict into a :class:`PretrainedCfg` (a clear error for unknown or bad fields)."""
    if isinstance(value, PretrainedCfg):
        return value
    try:
        return PretrainedCfg(**dict(value))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(
            f"invalid pretrained_cfg: {problems}. Fields are those of pimm.core.PretrainedCfg "
            f"({', '.join(PretrainedCfg.model_fields)})."
        ) from None


def _tag_cfg(spec: ModelSpec, arch: str, tag: str | None) -> PretrainedCfg:
    if tag is None:
        tag = spec.default_tag
        if tag is None:
            return PretrainedCfg(architecture=arch)
    cfg = spec.pretrained_cfgs.get(tag)
    if cfg is None:
        tags = ", ".join(spec.pretrained_cfgs) or "none"
        raise UnknownComponentError(
            f"invalid pretrained tag {tag!r} for model {arch!r}; its tags are: {tags} "
            f"(see `pimm info model {arch}`)"
        )
    return cfg.model_copy(update={"tag": tag})


def resolve_pretrained_cfg(
    spec: ModelSpec,
    arch: str,
    tag: str | None = None,
    pretrained_cfg: str | PretrainedCfg | Mapping[str, Any] | None = None,
    overlay: Mapping[str, Any] | None = None,
) -> PretrainedCfg:
    """The effective pretrained config: the tag's (or the explicit one), then ``overlay`` applied."""
    if isinstance(pretrained_cfg, str):
        cfg = _tag_cfg(spec, arch, pretrained_cfg)
    elif pretrained_cfg is not None:
        cfg = make_pretrained_cfg(pretrained_cfg)
    else:
        cfg = _tag_cfg(spec, arch, tag)
    if overlay:
        data = {**cfg.model_dump(exclude_unset=False), **dict(overlay)}
        if "custom_load" not in overlay and any(overlay.get(k) for k in ("url", "file", "hf_hub_id", "hf_hub_filename")):
            data["custom_load"] = False
        cfg = make_pretrained_cfg(data)
    updates: dict[str, Any] = {}
    if not cfg.architecture:
        updates["architecture"] = arch
    if cfg.hf_hub_id and cfg.hf_hub_id.endswith("/") and cfg.tag:
        updates["hf_hub_id"] = f"{cfg.hf_hub_id}{arch}.{cfg.tag}"
    return cfg.model_copy(update=updates) if updates else cfg


def cfg_to_dict(cfg: PretrainedCfg) -> dict[str, Any]:
    """``model.pretrained_cfg``: the config as a dict without None fields (three fields always kept)."""
    return {k: v for k, v in cfg.model_dump().items() if v is not None or k in _KEEP_NONE}


def get_pretrained_cfg(model_name: str) -> PretrainedCfg:
    """The pretrained config a name resolves to (``arch`` → default tag; unknown tag → error)."""
    spec, arch, tag = resolve_model_name(model_name)
    return resolve_pretrained_cfg(spec, arch, tag)


def get_pretrained_cfg_value(model_name: str, cfg_key: str) -> Any:
    """One field of the pretrained config ``model_name`` resolves to (None when the field is unset).

    A key that is no pretrained-config field is an error naming the closest fields.
    """
    fields = list(PretrainedCfg.model_fields)
    if cfg_key not in fields:
        close = difflib.get_close_matches(str(cfg_key), fields, n=3)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise ConfigError(f"{cfg_key!r} is not a pretrained config field{hint}; the fields are: {', '.join(fields)}")
    return getattr(get_pretrained_cfg(model_name), cfg_key)


def is_model(model_name: str) -> bool:
    """True when ``model_name`` (tag ignored) names a registered model."""
    arch, _ = split_model_name_tag(model_name)
    try:
        get_registry().lookup("model", arch)
    except (UnknownComponentError, ConfigError):
        return False
    except Exception:  # ambiguous: it exists, just not uniquely
        return True
    return True


def _patterns(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


def _module_names(entry: Entry) -> set[str]:
    """What ``module=`` may say to select this model: its plugin, the plugin's module, the target's module."""
    plugin_module = getattr(entry.plugin, "module", None) or ""
    target_module = entry.spec.target.partition(":")[0]
    names = {entry.plugin.name, plugin_module, target_module}
    names |= {dotted.rsplit(".", 1)[-1] for dotted in (plugin_module, target_module) if dotted}
    return {n for n in names if n}


def list_modules() -> list[str]:
    """The plugin names that provide models (what ``list_models(module=...)`` selects by), sorted."""
    return sorted({entry.plugin.name for entry in get_registry().entries("model")}, key=natural_key)


def list_models(
    filter: str | Iterable[str] = "",
    pretrained: bool = False,
    exclude_filters: str | Iterable[str] = "",
    include_tags: bool | None = None,
    module: str = "",
    name_matches_cfg: bool = False,
) -> list[str]:
    """Registered model names matching fnmatch ``filter`` (and no ``exclude_filters``), naturally sorted.

    ``include_tags`` (default: ``pretrained``) lists ``arch.tag`` names, and then a filter without
    a '.' also matches the tags of the architectures it matches. ``pretrained=True`` keeps only
    names with weights. ``module`` keeps the models of one family: a plugin name (e.g. 'resnet',
    see :func:`list_modules`), the plugin's module or the module defining the model class (an
    unknown module is an error with the closest names);
    ``name_matches_cfg`` keeps architectures that have pretrained configs. Deprecated names are
    never listed.
    """
    if include_tags is None:
        include_tags = pretrained
    registry = get_registry()
    entries = list(registry.entries("model"))
    if module:
        known = set().union(*(_module_names(e) for e in entries)) if entries else set()
        if module not in known:
            close = difflib.get_close_matches(str(module), sorted(known), n=3)
            hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
            raise ConfigError(
                f"list_models(module={module!r}): no model family or plugin of that name; {hint}"
                f"modules with models: {', '.join(list_modules())}"
            )
        entries = [e for e in entries if module in _module_names(e)]
    names: list[tuple[str, PretrainedCfg | None]] = []
    for entry in entries:
        spec: ModelSpec = entry.spec  # type: ignore[assignment]
        if name_matches_cfg and not spec.pretrained_cfgs:
            continue
        if include_tags and spec.pretrained_cfgs:
            names.extend((f"{spec.name}.{tag}", cfg) for tag, cfg in spec.pretrained_cfgs.items())
        else:
            tag = spec.default_tag
            names.append((spec.name, spec.pretrained_cfgs.get(tag) if tag else None))
    include = _patterns(filter)
    if include_tags:
        include = include + [f"{p}.*" for p in include if "." not in p]
    if include:
        names = [(n, c) for n, c in names if any(fnmatch.fnmatchcase(n, p) for p in include)]
    for pattern in _patterns(exclude_filters):
        names = [(n, c) for n, c in names if not fnmatch.fnmatchcase(n, pattern)]
    if pretrained:
        names = [(n, c) for n, c in names if c is not None and c.has_weights]
    return sorted({n for n, _ in names}, key=natural_key)


def list_pretrained(filter: str | Iterable[str] = "", exclude_filters: str | Iterable[str] = "") -> list[str]:
    """Every ``arch.tag`` that has weights, filtered like :func:`list_models`."""
    return list_models(filter, pretrained=True, exclude_filters=exclude_filters, include_tags=True)
