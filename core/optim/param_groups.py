"""Parameter groups for the optimizer factory: weight-decay groups and layer-wise lr decay groups."""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import ConfigError

__all__ = ["param_groups_weight_decay", "param_groups_layer_decay", "layer_ids"]

#: A matcher entry whose ordinal is this value joins the previous layer (timm's convention).
MATCH_PREV_GROUP = 99999.0


def _excluded(name: str, patterns: Iterable[str]) -> bool:
    return any(name == pat or fnmatch.fnmatchcase(name, pat) for pat in patterns)


def param_groups_weight_decay(model: Any, weight_decay: float = 1e-5,
                              no_weight_decay_list: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Split a model's trainable parameters into [no-decay, decay] groups.

    No decay for tensors with ndim <= 1, names ending in '.bias' and names matching (exactly or
    by fnmatch) ``no_weight_decay_list``. With ``weight_decay == 0`` a single group is returned.
    Empty groups are omitted; parameters with ``requires_grad=False`` are skipped.
    """
    patterns = tuple(no_weight_decay_list)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not weight_decay:
        return [{"params": [p for _, p in named], "weight_decay": 0.0}]
    no_decay, decay = [], []
    for name, p in named:
        if p.ndim <= 1 or name.endswith(".bias") or _excluded(name, patterns):
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]
    return [g for g in groups if g["params"]]


def _compile(matcher: Mapping[str, Any]) -> list[tuple[re.Pattern[str], float, tuple[float, ...] | None]]:
    compiled = []
    for ordinal, spec in enumerate(matcher.values()):
        if spec is None:
            continue
        entries = spec if isinstance(spec, (list, tuple)) else [(spec, None)]
        for entry in entries:
            pattern, suffix = (entry, None) if isinstance(entry, str) else entry
            compiled.append((re.compile(pattern), float(ordinal), None if suffix is None else tuple(map(float, suffix))))
    return compiled


def layer_ids(names: Iterable[str], matcher: Mapping[str, Any] | Callable[[str], Any]) -> dict[str, int]:
    """Map parameter names to consecutive layer ids using a ``group_matcher`` result.

    A dict matcher (group name → regex, or list of (regex, suffix) pairs) orders groups by their
    position, then by the regex's captured numbers; a callable returns an ordinal (or tuple) per
    name. Names nothing matches get the last id.
    """
    names = list(names)
    if callable(matcher) and not isinstance(matcher, Mapping):
        def key(name: str) -> tuple[float, ...]:
            value = matcher(name)
            return tuple(map(float, value)) if isinstance(value, Iterable) else (float(value),)
    else:
        compiled = _compile(matcher)

        def key(name: str) -> tuple[float, ...]:
            for regex, ordinal, suffix in compiled:
                found = regex.match(name)
                if found:
                    numbers = tuple(float(g) for g in found.groups() if g is not None)
                    return (ordinal, *numbers, *(suffix or ()))
            return (math.inf,)

    keys = {name: key(name) for name in names}
    ids: dict[tuple[float, ...], int] = {}
    current = -1
    for k in sorted(set(keys.values())):
        if current < 0 or k[-1] != MATCH_PREV_GROUP:
            current += 1
        ids[k] = current
    return {name: ids[k] for name, k in keys.items()}


def param_groups_layer_decay(model: Any, weight_decay: float = 0.05, no_weight_decay_list: Iterable[str] = (),
                             layer_decay: float = 0.75, min_scale: float = 0.0) -> list[dict[str, Any]]:
    """Groups per (layer, decay/no-decay) with ``lr_scale = max(min_scale, layer_decay^(L-1-i))``.

    Layers come from ``model.group_matcher(coarse=False)``; parameters it does not match (the
    head) get the last layer id. 1-D tensors and ``no_weight_decay_list`` names get no weight
    decay. Each group carries ``lr_scale`` and ``weight_decay``; the factory applies the scale.
    """
    if not hasattr(model, "group_matcher"):
        raise ConfigError(
            f"layer_decay needs a model with group_matcher(coarse=False); {type(model).__name__} has none. "
            "Pass param_group_fn=... to build the groups yourself."
        )
    patterns = tuple(no_weight_decay_list)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    ids = layer_ids([n for n, _ in named], model.group_matcher(coarse=False))
    num_layers = max(ids.values(), default=0) + 1
    last = num_layers - 1
    scales = [max(min_scale, layer_decay ** (last - i)) for i in range(num_layers)]
    groups: dict[str, dict[str, Any]] = {}
    for name, p in named:
        if p.ndim <= 1 or _excluded(name, patterns):
            kind, decay = "no_decay", 0.0
        else:
            kind, decay = "decay", weight_decay
        layer = ids.get(name, last)
        key = f"layer_{layer}_{kind}"
        if key not in groups:
            groups[key] = {"lr_scale": scales[layer], "weight_decay": decay, "params": []}
        groups[key]["params"].append(p)
    return list(groups.values())
