"""Feature-extraction wrappers built from any model's ``feature_info``.

A model declares its feature levels as ``feature_info``: a list of dicts ``{num_chs, reduction,
module}`` (or a :class:`~pimm.core.models.feature_info.FeatureInfo`), ``module`` naming the
submodule whose output is that level. :class:`FeatureListNet` returns the selected levels as a
list, :class:`FeatureDictNet` as a dict keyed by ``str(out_index)`` as the user wrote it
(``'-1'`` for ``out_indices=(-1,)``).

How the levels are computed:

* if the model has ``forward_intermediates(x, indices, stop_early=..., intermediates_only=...)``
  (its taps numbered like ``feature_info``), that is used;
* otherwise the model's top-level children run in order, ``nn.Sequential`` children that hold a
  level being entered, and each level's module output is captured. A level inside any other
  container needs ``forward_intermediates``.

Either way the wrapper owns the model's top-level children up to the last one needed, under their
original names, so its ``state_dict`` keys are the model's own keys minus the head (a checkpoint
of the full model loads into it with ``strict=False`` dropping only the head).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError

__all__ = ["FeatureListNet", "FeatureDictNet", "feature_dicts", "resolve_out_indices", "create_features"]

_HEAD_CFG_KEYS = ("num_classes", "classifier", "global_pool")


def feature_dicts(model: nn.Module) -> list[dict[str, Any]]:
    """The model's ``feature_info`` as a list of dicts (a clear error when it has none)."""
    info = getattr(model, "feature_info", None)
    if info is None:
        raise ConfigError(
            f"{type(model).__name__} declares no feature_info, so features_only=True cannot wrap it; "
            "its plugin must set model.feature_info = [dict(num_chs=..., reduction=..., module=...), ...]"
        )
    if hasattr(info, "get_dicts"):
        info = info.get_dicts()
    dicts = [dict(d) for d in info]
    for i, d in enumerate(dicts):
        missing = {"num_chs", "reduction", "module"} - set(d)
        if missing:
            raise ConfigError(f"feature_info[{i}] of {type(model).__name__} lacks {sorted(missing)}: {d}")
    return dicts


def resolve_out_indices(out_indices: int | Sequence[int] | None, num_levels: int) -> tuple[list[int], list[int]]:
    """(indices as given, positive indices) for ``out_indices``; an int ``n`` means the last ``n`` levels."""
    from .feature_info import normalize_out_indices

    positive = list(normalize_out_indices(out_indices, num_levels))
    if out_indices is None or isinstance(out_indices, int):
        return positive, positive
    given = list(out_indices)
    if not given:
        raise ConfigError("out_indices is empty; name at least one feature level")
    return given, positive


def _make_feature_info(dicts: list[dict[str, Any]], positive: list[int]) -> Any:
    from .feature_info import FeatureInfo

    return FeatureInfo(dicts, positive)


class _FeatureNet(nn.Module):
    """Shared machinery of the list and dict wrappers."""

    def __init__(self, model: nn.Module, out_indices: int | Sequence[int] | None = None) -> None:
        super().__init__()
        dicts = feature_dicts(model)
        given, positive = resolve_out_indices(out_indices, len(dicts))
        self.out_indices = tuple(given)
        self._positive = positive
        self._keys = [str(i) for i in given]
        self.feature_info = _make_feature_info(dicts, positive)
        wanted = [dicts[i]["module"] for i in positive]
        self._use_intermediates = callable(getattr(model, "forward_intermediates", None))
        children = list(model.named_children())
        names = [n for n, _ in children]
        last = -1
        for module_name in wanted:
            top = module_name.split(".")[0]
            if top not in names:
                raise ConfigError(
                    f"feature module {module_name!r} of {type(model).__name__} is not under a top-level child "
                    f"(children: {names})"
                )
            last = max(last, names.index(top))
        for name, child in children[: last + 1]:
            if not self._use_intermediates:
                child = _truncate(child, name, wanted)
            self.add_module(name, child)
        # The model itself is kept unregistered: its forward_intermediates runs on the shared children.
        self.__dict__["_source"] = model
        self._plan = [] if self._use_intermediates else _plan(self, wanted)
        self._sorted = sorted(positive)
        self._order = [self._sorted.index(p) for p in positive]
        cfg = getattr(model, "pretrained_cfg", None)
        if isinstance(cfg, dict):
            cfg = {k: v for k, v in cfg.items() if k not in _HEAD_CFG_KEYS}
            self.pretrained_cfg = cfg
            self.default_cfg = cfg
        for attr in ("pimm_origin",):
            if hasattr(model, attr):
                self.__dict__[attr] = getattr(model, attr)

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self._use_intermediates:
            outs = self.__dict__["_source"].forward_intermediates(
                x, indices=self._sorted, stop_early=True, intermediates_only=True
            )
            outs = list(outs)
        else:
            outs = []
            for module, capture in self._plan:
                x = module(x)
                if capture:
                    outs.append(x)
                    if len(outs) == len(self._sorted):
                        break
        return [outs[i] for i in self._order]


def _truncate(child: nn.Module, name: str, wanted: list[str]) -> nn.Module:
    """A Sequential child cut after its last needed submodule (keys keep their original names)."""
    inner = [w[len(name) + 1:] for w in wanted if w.startswith(name + ".")]
    if not inner or not isinstance(child, nn.Sequential):
        return child
    sub_names = [n for n, _ in child.named_children()]
    tops = [w.split(".")[0] for w in inner]
    if any(t not in sub_names for t in tops):
        return child
    last = max(sub_names.index(t) for t in tops)
    if last == len(sub_names) - 1:
        return child
    return nn.Sequential(OrderedDict(list(child.named_children())[: last + 1]))


def _plan(root: nn.Module, wanted: list[str]) -> list[tuple[nn.Module, bool]]:
    """Flatten the run order: (module, capture-its-output) pairs, entering Sequentials that hold levels."""
    targets = set(wanted)
    plan: list[tuple[nn.Module, bool]] = []

    def walk(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            full = f"{prefix}{name}"
            if any(t.startswith(full + ".") for t in targets):
                if not isinstance(child, nn.Sequential):
                    raise ConfigError(
                        f"feature module {[t for t in targets if t.startswith(full + '.')][0]!r} sits inside "
                        f"{type(child).__name__} {full!r}, which is not an nn.Sequential; the model needs a "
                        "forward_intermediates method (or feature modules at Sequential level) for features_only"
                    )
                walk(child, full + ".")
            else:
                plan.append((child, full in targets))

    walk(root, "")
    while plan and not plan[-1][1]:
        plan.pop()
    return plan


class FeatureListNet(_FeatureNet):
    """A model reduced to its feature levels; ``forward`` returns them as a list in ``out_indices`` order."""

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self._features(x)


class FeatureDictNet(_FeatureNet):
    """A model reduced to its feature levels; ``forward`` returns ``{str(out_index): tensor}``."""

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return dict(zip(self._keys, self._features(x)))


def create_features(model: nn.Module, out_indices: int | Sequence[int] | None = None, feature_cls: str = "list") -> nn.Module:
    """Wrap ``model`` for feature extraction (``feature_cls`` 'list' or 'dict')."""
    kind = (feature_cls or "list").lower()
    if kind == "list":
        return FeatureListNet(model, out_indices)
    if kind == "dict":
        return FeatureDictNet(model, out_indices)
    raise ConfigError(f"feature_cls {feature_cls!r} is not supported; use 'list' or 'dict'")
