"""What each registered optimizer is and can do (timm's ``OptimInfo`` idea, built from pimm's specs).

``get_optimizer_info('lamb')`` answers without importing torch: the class is named by its target
string and imported only when ``opt_class`` is read. ``optimizer_classes()`` maps every class
name that a registered optimizer builds (torch.optim's own excepted) to its target, which is how
``from pimm.core.optim import Lamb`` finds classes without core importing any plugin.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import UnknownComponentError
from ..factory import get_spec, list_names, resolve

__all__ = ["OptimInfo", "get_optimizer_info", "list_optimizer_infos", "optimizer_classes", "import_target"]


def import_target(target: str) -> Any:
    """The object a ``'module:attribute'`` target names."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class OptimInfo:
    """One registered optimizer name and its capabilities."""

    name: str
    target: str
    description: str = ""
    has_eps: bool = True
    has_momentum: bool = False
    has_betas: bool = False
    num_betas: int = 2
    second_order: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    tags: frozenset[str] = frozenset()
    plugin: str = ""

    @property
    def opt_class(self) -> Any:
        """The optimizer class (imported on first use; this may import torch)."""
        return import_target(self.target)

    @property
    def cautious(self) -> bool:
        """Whether this name builds a cautious optimizer (timm's c-prefixed names)."""
        return bool(self.defaults.get("caution"))

    @property
    def has_caution(self) -> bool:
        """Whether the optimizer accepts ``caution``."""
        return "caution" in self.options

    @property
    def has_corrected_weight_decay(self) -> bool:
        """Whether the optimizer accepts ``corrected_weight_decay``."""
        return "corrected_weight_decay" in self.options


def get_optimizer_info(name: str) -> OptimInfo:
    """The :class:`OptimInfo` of the optimizer registered as ``name`` (unknown names: UnknownComponentError)."""
    entry = resolve("optimizer", name.lower() if isinstance(name, str) else name)
    spec = entry.spec
    return OptimInfo(
        name=spec.name, target=spec.target, description=spec.summary,
        has_eps=bool(getattr(spec, "has_eps", True)), has_momentum=bool(getattr(spec, "has_momentum", False)),
        has_betas=bool(getattr(spec, "has_betas", False)), num_betas=int(getattr(spec, "num_betas", 2)),
        second_order=bool(getattr(spec, "second_order", False)), defaults=dict(getattr(spec, "defaults", {})),
        options=tuple(spec.options.model_fields), tags=frozenset(spec.tags),
        plugin=getattr(entry.plugin, "name", str(entry.plugin)),
    )


def list_optimizer_infos(filter: str = "", exclude_filters: str | list[str] | None = None) -> list[OptimInfo]:
    """The :class:`OptimInfo` of every registered optimizer matching ``filter`` (fnmatch; '' = all)."""
    return [get_optimizer_info(n) for n in list_names("optimizer", filter or None, exclude_filters)]


def optimizer_classes() -> dict[str, str]:
    """Class name -> target for every class a registered optimizer builds, torch.optim's excepted
    (pimm's own AdamW/Nadam/RAdam are the classes under those names, as in timm's tutorial)."""
    found: dict[str, str] = {}
    for name in list_names("optimizer"):
        try:
            target = get_spec("optimizer", name).target
        except UnknownComponentError:  # pragma: no cover - a plugin unloaded meanwhile
            continue
        if not isinstance(target, str) or target.startswith("torch.optim:") or ":" not in target:
            continue
        found.setdefault(target.partition(":")[2], target)
    return found
