"""``create_model``: build any registered model, with pretrained weights from any source.

Steps: drop ``None`` keyword arguments → parse the name (``arch.tag``, ``hf-hub:``, ``local-dir:``,
deprecated names) → resolve the pretrained config (tag, explicit cfg, overlay) → fill the model's
``num_classes`` / ``in_chans`` options from it when the user did not → build from the resolved
registry entry (options validated by the spec; the name is resolved once) → set
``model.pretrained_cfg`` → load weights (pretrained and/or ``checkpoint_path``) → wrap for
``features_only``. ``pimm.core.create("model", name, ...)`` takes the same path
(:func:`create_model_entry` is the model kind's creator), so both return the same kind of object.

With ``pretrained=True`` the model is first built on the ``meta`` device, so no time is spent
initialising weights that the checkpoint replaces; when the checkpoint does not cover every
parameter and buffer (a new head, a non-persistent buffer) or the model cannot be built on meta,
it is built normally instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..factory import build_entry, resolve
from ..registry import Entry
from ..specs import ModelSpec, PretrainedCfg
from .pretrained import (
    cfg_to_dict,
    make_pretrained_cfg,
    parse_model_name,
    resolve_model_entry,
    resolve_pretrained_cfg,
)
from .saved_config import check_saved_config

__all__ = ["create_model", "create_model_entry", "load_pretrained", "build_with_state_dict", "read_saved_config"]

_FEATURE_KWARGS = ("features_only", "out_indices", "feature_cls")
CONFIG_NAME = "config.json"


def read_saved_config(source: str, location: str, cache_dir: Any = None) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(model name, options, pretrained cfg data) from the ``config.json`` of a hub repo or directory.

    Reads pimm's own layout (a ``"pimm"`` section with name and options) and timm's
    (``architecture`` + ``model_args`` + ``pretrained_cfg``).
    """
    if source == "local-dir":
        root = Path(location).expanduser()
        path = root / CONFIG_NAME
        if not path.is_file():
            raise ConfigError(
                f"local-dir:{location}: no {CONFIG_NAME} in {str(root)!r}; a model directory is what "
                "save_pretrained(model, DIR) writes (config.json + model.safetensors)"
            )
        where: dict[str, Any] = {"file": str(root), "source": "local-dir"}
    else:
        from . import hub
        from .weights import WeightsNotFoundError

        repo, rev = hub.split_revision(location)
        path = hub.find_in_hf_cache(repo, CONFIG_NAME, rev, cache_dir)
        if path is None and hub.hub_available():
            path = hub.cached_with_hub_package(repo, CONFIG_NAME, rev, cache_dir)
            if path is None and not hub.hub_offline():
                path = hub.download_hub_file(repo, CONFIG_NAME, rev, cache_dir)
        if path is None:
            raise WeightsNotFoundError(
                f"hf-hub:{location}: {CONFIG_NAME} is not cached and cannot be downloaded "
                f"({'offline' if hub.hub_offline() else 'huggingface_hub is not installed'}); it is looked for at "
                f"{hub.hf_cache_target(repo, CONFIG_NAME, cache_dir)}"
            )
        where = {"hf_hub_id": location, "source": "hf-hub"}
    try:
        config = json.loads(Path(path).read_text())
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(f"cannot read {path}: {str(exc)[:200]}") from None
    check_saved_config(config, str(path))  # untrusted: a wrong shape is one error naming the field
    pimm_part = config.get("pimm") or {}
    name = pimm_part.get("name") or config.get("architecture")
    if not name:
        raise ConfigError(f"{path} names no model: it needs 'architecture' (or pimm.name)")
    options = dict(pimm_part.get("options") or config.get("model_args") or {})
    known = set(PretrainedCfg.model_fields)
    cfg_data = {k: v for k, v in (config.get("pretrained_cfg") or {}).items() if k in known}
    for key in ("url", "file", "hf_hub_id", "hf_hub_filename", "sha256", "hash_prefix", "state_dict"):
        cfg_data.pop(key, None)
    if "num_classes" in config:
        cfg_data["num_classes"] = config["num_classes"]
    if config.get("label_names"):
        cfg_data["label_names"] = tuple(config["label_names"])
    cfg_data.update(where)
    return name.split(".", 1)[0], options, cfg_data


def _inject_defaults(spec: ModelSpec, cfg: PretrainedCfg, kwargs: dict[str, Any]) -> None:
    fields = spec.options.model_fields
    if "num_classes" in fields and cfg.num_classes is not None and cfg.num_classes >= 0:
        kwargs.setdefault("num_classes", cfg.num_classes)
    if "in_chans" in fields and cfg.input_size:
        kwargs.setdefault("in_chans", cfg.input_size[0])
    if "img_size" in fields and cfg.fixed_input_size and cfg.input_size:
        kwargs.setdefault("img_size", tuple(cfg.input_size[-2:]))


def _as_entry(name: str | Entry) -> Entry:
    return name if isinstance(name, Entry) else resolve("model", name)


def _build(name: str | Entry, options: dict[str, Any], meta: bool) -> Any:
    entry = _as_entry(name)
    if not meta:
        return build_entry(entry, **options)
    import torch

    with torch.device("meta"):
        return build_entry(entry, **options)


def _covers_everything(model: Any, state_dict: Mapping[str, Any], allowed_missing: set[str]) -> bool:
    if allowed_missing:
        return False
    names = {n for n, _ in model.named_parameters()} | {n for n, _ in model.named_buffers()}
    return names <= set(state_dict) and set(model.state_dict()) == set(state_dict)


def _any_meta(model: Any) -> bool:
    import torch

    if any(t.is_meta for t in model.parameters()) or any(t.is_meta for t in model.buffers()):
        return True
    # plain tensor attributes made in a constructor (not parameters or buffers) would stay on meta
    return any(
        isinstance(value, torch.Tensor) and value.is_meta
        for module in model.modules()
        for value in vars(module).values()
    )


def load_pretrained(
    name: str | Entry, options: dict[str, Any], cfg: PretrainedCfg, cache_dir: Any = None, label: str = ""
) -> Any:
    """Build model ``name`` with ``options`` and load the weights ``cfg`` points at."""
    from .adapt import unwrap_checkpoint
    from .weights import read_checkpoint, resolve_weights

    path = resolve_weights(cfg, cache_dir, label=label)
    name = _as_entry(name)
    if cfg.custom_load:
        model = _build(name, options, meta=False)
        loader = getattr(model, "load_pretrained", None)
        if not callable(loader):
            raise ConfigError(f"{label}: pretrained_cfg has custom_load=True but the model has no load_pretrained()")
        model.pretrained_cfg = model.default_cfg = cfg_to_dict(cfg)
        loader(str(path))
        return model
    return build_with_state_dict(name, options, cfg, unwrap_checkpoint(read_checkpoint(path)))


def build_with_state_dict(
    name: str | Entry, options: dict[str, Any], cfg: PretrainedCfg, raw: dict[str, Any]
) -> Any:
    """Build model ``name`` and load ``raw`` (an unwrapped state dict) with the checkpoint rules.

    Remap hook, first-conv adaptation and head dropping follow ``cfg``; the model is built on the
    meta device when the state dict covers it completely.
    """
    from .adapt import apply_checkpoint_filter, fit_state_dict, load_fitted

    name = _as_entry(name)  # resolved once for the (up to three) builds below
    try:
        model = _build(name, options, meta=True)
    except Exception:
        model = None  # some constructors compute on tensors; build normally
    template = model if model is not None else _build(name, options, meta=False)
    state_dict = apply_checkpoint_filter(template, raw)
    state_dict, allowed = fit_state_dict(
        template, state_dict, cfg.first_conv, cfg.classifier, cfg.num_classes, cfg.label_offset
    )
    if model is not None and _covers_everything(model, state_dict, allowed):
        reference = model.state_dict()
        state_dict = {
            k: (v.to(reference[k].dtype) if k in reference and v.is_floating_point() else v)
            for k, v in state_dict.items()
        }
        load_fitted(model, state_dict, allowed, strict=True, assign=True)
        if not _any_meta(model):
            return model
    if model is template:
        template = _build(name, options, meta=False)
    load_fitted(template, state_dict, allowed, strict=True)
    return template


def create_model(
    model_name: str,
    pretrained: bool | None = None,
    pretrained_cfg: str | PretrainedCfg | Mapping[str, Any] | None = None,
    pretrained_cfg_overlay: Mapping[str, Any] | None = None,
    checkpoint_path: str | None = None,
    cache_dir: str | Path | None = None,
    scriptable: bool | None = None,
    exportable: bool | None = None,
    no_jit: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Create a model by name: ``'resnet50d'``, ``'resnet50d.ra2_in1k'``, ``'hf-hub:org/name'`` or ``'local-dir:DIR'``.

    ``pretrained`` loads weights (default: False for registry names, True for ``hf-hub:`` and
    ``local-dir:``, which name a set of weights). Keyword arguments set to None are ignored; the
    others are the model's options (validated), plus ``features_only``, ``out_indices`` and
    ``feature_cls`` ('list' or 'dict') for feature extraction. ``scriptable``, ``exportable`` and
    ``no_jit`` are accepted for timm compatibility and have no effect.
    """
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    source, rest = parse_model_name(model_name)
    if source is not None:
        if pretrained_cfg is not None:
            raise ConfigError(
                f"{model_name!r} brings its own pretrained config; pass pretrained_cfg_overlay=... to change it, "
                "not pretrained_cfg"
            )
        name, saved_options, cfg_data = read_saved_config(source, rest, cache_dir)
        kwargs = {**saved_options, **kwargs}
        entry, arch, _ = resolve_model_entry(name)
        cfg = resolve_pretrained_cfg(entry.spec, arch, None, make_pretrained_cfg(cfg_data), pretrained_cfg_overlay)
        pretrained = True if pretrained is None else pretrained
    else:
        entry, arch, tag = resolve_model_entry(rest)
        cfg = resolve_pretrained_cfg(entry.spec, arch, tag, pretrained_cfg, pretrained_cfg_overlay)
    return _create_from_entry(entry, arch, cfg, bool(pretrained), checkpoint_path, cache_dir, kwargs)


def create_model_entry(entry: Entry, /, *args: Any, **kwargs: Any) -> Any:
    """The model kind's creator: ``pimm.core.create("model", name, **kwargs)`` lands here.

    Takes the keyword arguments of :func:`create_model` (``pretrained``, ``pretrained_cfg``,
    ``features_only`` ... and the model's options) and returns what ``create_model`` returns for
    the same name, built from the already resolved ``entry``.
    """
    if args:
        raise ConfigError(
            f"model {entry.name!r} takes keyword options only, got {len(args)} positional argument(s); "
            f"e.g. create('model', {entry.name!r}, num_classes=10)"
        )
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    pretrained = bool(kwargs.pop("pretrained", False))
    checkpoint_path = kwargs.pop("checkpoint_path", None)
    cache_dir = kwargs.pop("cache_dir", None)
    for flag in ("scriptable", "exportable", "no_jit"):
        kwargs.pop(flag, None)
    cfg = resolve_pretrained_cfg(entry.spec, entry.name, None, kwargs.pop("pretrained_cfg", None),
                                 kwargs.pop("pretrained_cfg_overlay", None))
    return _create_from_entry(entry, entry.name, cfg, pretrained, checkpoint_path, cache_dir, kwargs)


def _create_from_entry(
    entry: Entry,
    arch: str,
    cfg: PretrainedCfg,
    pretrained: bool,
    checkpoint_path: str | None,
    cache_dir: str | Path | None,
    kwargs: dict[str, Any],
) -> Any:
    spec: ModelSpec = entry.spec  # type: ignore[assignment]
    features: dict[str, Any] = {}
    if "features_only" not in spec.options.model_fields:
        features = {k: kwargs.pop(k) for k in _FEATURE_KWARGS if k in kwargs}
        if features and not features.get("features_only", False):
            features = {}
    _inject_defaults(spec, cfg, kwargs)
    label = f"{arch}.{cfg.tag}" if cfg.tag else arch
    if pretrained:
        model = load_pretrained(entry, kwargs, cfg, cache_dir, label)
    else:
        model = _build(entry, kwargs, meta=False)
    cfg_dict = cfg_to_dict(cfg)
    model.pretrained_cfg = cfg_dict
    model.default_cfg = cfg_dict
    if checkpoint_path:
        from .adapt import load_checkpoint

        load_checkpoint(model, checkpoint_path)
    if features:
        from .features import create_features

        out_indices: int | Sequence[int] | None = features.get("out_indices")
        return create_features(model, out_indices, features.get("feature_cls", "list"))
    return model
