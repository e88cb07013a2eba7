"""pimm.core.optim: the optimizer factory (parameter groups, name parsing, defaults) for every optimizer plugin.

Names are resolved lazily so that importing this package does not import torch.
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
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
