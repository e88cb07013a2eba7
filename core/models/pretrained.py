"""Pretrained configs: model-name parsing, tag resolution, overlays, and the listing functions.

Names follow timm: ``arch`` or ``arch.tag`` (split at the first '.'), where the tag picks one of
the spec's pretrained configs; a bare ``arch`` means its default tag (:attr:`ModelSpec.default_tag`:
the first tag with weights, else the first tag). ``hf-hub:org/name[@rev]`` and ``local-dir:DIR``
name a model by its saved config instead. Deprecated names resolve to their new ``arch.tag``
with a ``FutureWarning`` and are never listed.
"""

from __future__ import annotations

import fnmatch
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
    "is_model",
    "list_models",
    "list_pretrained",
]

#: Name prefixes that select where a model (config and weights) comes from.
SOURCES = {"hf-hub": "hf-hub", "hf_hub": "hf-hub", "local-dir": "local-dir", "local_dir": "local-dir"}

# Fields kept in model.pretrained_cfg even when None (timm keeps these three).
_KEEP_NONE = ("pool_size", "first_conv", "classifier")


def parse_model_name(name: str) -> tuple[str | None, str]:
    """``(source, rest)``: source is 'hf-hub', 'local-dir' or None for a registry name."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"a model name must be a non-empty string, got {name!r}")
    if QUALIFIER not in name and ":" in name:
        prefix, _, rest = name.partition(":")
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
        raise ConfigError(
            f"model name {name!r} looks like a path or a hub id; write 'hf-hub:{name}' for a Hugging Face "
            f"hub model or 'local-dir:{name}' for a saved model directory"
        )
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
    names with weights. ``module`` keeps the models of one plugin (e.g. 'resnet');
    ``name_matches_cfg`` keeps architectures that have pretrained configs. Deprecated names are
    never listed.
    """
    if include_tags is None:
        include_tags = pretrained
    registry = get_registry()
    names: list[tuple[str, PretrainedCfg | None]] = []
    for entry in registry.entries("model"):
        spec: ModelSpec = entry.spec  # type: ignore[assignment]
        if (module and entry.plugin.name != module) or (name_matches_cfg and not spec.pretrained_cfgs):
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
