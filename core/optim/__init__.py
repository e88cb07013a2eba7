"""pimm.core.optim: the optimizer factory (parameter groups, name parsing, defaults) for every optimizer plugin.

Names are resolved lazily so that importing this package does not import torch. The optimizer
classes are public here too (``from pimm.core.optim import Lamb, RMSpropTF, SGDW``): each class
name is looked up among the registered optimizers' targets on first access, so core never
imports a plugin module itself and a plugin's classes appear here as well.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY: dict[str, str] = {
    # public name -> submodule defining it
    "create_optimizer": ".factory",
    "create_optimizer_v2": ".factory",
    "list_optimizers": ".factory",
    "parse_optimizer_name": ".factory",
    "param_groups_weight_decay": ".param_groups",
    "param_groups_layer_decay": ".param_groups",
    "Lookahead": ".lookahead",
    "OptimInfo": ".info",
    "get_optimizer_info": ".info",
    "list_optimizer_infos": ".info",
}


_module_getattr, _module_dir = lazy_exports(__name__, _LAZY)


def __getattr__(name: str) -> object:
    if name in _LAZY or name.startswith("_") or not name[:1].isupper():
        return _module_getattr(name)
    from .info import import_target, optimizer_classes

    target = optimizer_classes().get(name)
    if target is None:
        return _module_getattr(name)  # the usual AttributeError
    value = import_target(target)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    from .info import optimizer_classes

    return sorted(set(_module_dir()) | set(optimizer_classes()))
