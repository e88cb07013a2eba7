"""pimm.core.optim: the optimizer factory (parameter groups, name parsing, defaults) for every optimizer plugin.

Names are resolved lazily so that importing this package does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    # public name -> submodule defining it
    "create_optimizer": ".factory",
    "create_optimizer_v2": ".factory",
    "list_optimizers": ".factory",
    "parse_optimizer_name": ".factory",
    "param_groups_weight_decay": ".param_groups",
    "param_groups_layer_decay": ".param_groups",
    "Lookahead": ".lookahead",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pimm.core.optim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
