"""The factory's fused default: torch's fused optimizer kernels wherever they compute the same rule.

torch.optim's SGD, Adam, AdamW and Adagrad each have a fused kernel (the whole update of a tensor
in one pass) on CPU as well as CUDA, 2-3.5x faster than their default per-op loop on a CPU, yet
torch uses it only when asked (``fused=True``). ``create_optimizer`` asks for it for every
optimizer whose spec carries the ``"fused"`` tag (a promise of the plugin: the class takes
``fused=True`` for floating-point tensors on CPU and CUDA), when:

* the user passed neither ``fused`` nor ``foreach`` (as an option or in a parameter group), nor
  ``differentiable=True`` (the fused kernels are not differentiable);
* every parameter is a plain floating-point tensor (not complex, not a tensor subclass) on a CPU
  or CUDA device.

Otherwise the class keeps its own default. The choice shows in the optimizer's repr and
state_dict (``fused: True`` in each parameter group) and as ``optimizer.pimm_fused_default``.
Two cases only show when stepping; a step pre-hook then turns the fused kernel off for the group
concerned rather than let torch fail: a group added later (``add_param_group``) holding a tensor
the kernel cannot take, and a sparse gradient (SGD and Adagrad step sparse gradients on their
non-fused path only). ``pimm.core.create`` builds exactly the options given and picks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

__all__ = ["FUSED_DEVICES", "FUSED_TAG", "fused_eligible", "use_fused_default", "mark_fused_default"]

#: The spec tag by which a plugin says its class takes ``fused=True`` (CPU and CUDA, float tensors).
FUSED_TAG = "fused"

#: Device types where the fused kernel is picked by default; elsewhere the class's own default stands.
FUSED_DEVICES = frozenset({"cpu", "cuda"})

#: The only tensor types the fused kernels take (subclasses such as DTensor keep torch's default).
_PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)
_PATH_KEYS = ("foreach", "fused")


def fused_eligible(params: Iterable[Any]) -> bool:
    """Whether torch's fused kernels can step every tensor in ``params``."""
    return all(type(p) in _PLAIN_TYPES and p.device.type in FUSED_DEVICES and torch.is_floating_point(p)
               for p in params)


def _tensor(item: Any) -> Any:
    """The parameter of a list entry (torch also accepts ``(name, param)`` pairs)."""
    return item[1] if isinstance(item, tuple) and len(item) == 2 else item


def _all_params(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            out.extend(_tensor(p) for p in item.get("params", []))
        else:
            out.append(_tensor(item))
    return out


def _path_chosen(settings: dict[str, Any]) -> bool:
    return any(settings.get(k) is not None for k in _PATH_KEYS) or bool(settings.get("differentiable"))


def use_fused_default(opt_args: dict[str, Any], params: list[Any]) -> bool:
    """Whether to pass ``fused=True``: no path chosen anywhere and every parameter eligible.

    ``params`` is the factory's materialized list of tensors or of parameter groups.
    """
    if _path_chosen(opt_args) or any(isinstance(g, dict) and _path_chosen(g) for g in params):
        return False
    return bool(params) and fused_eligible(_all_params(params))


def _keep_fused_valid(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
    """Step pre-hook: a fused group holding a tensor or gradient the kernel cannot take goes non-fused."""
    checked: list[dict[str, Any]] = optimizer.__dict__.setdefault("_pimm_fused_checked", [])
    checked[:] = [g for g in checked if any(g is current for current in optimizer.param_groups)]
    for group in optimizer.param_groups:
        if not group.get("fused"):
            continue
        params = group["params"]
        if not any(group is seen for seen in checked):  # added or loaded since the last step: check once
            if not fused_eligible(params):
                group["fused"] = False
                continue
            checked.append(group)
        if any(p.grad is not None and p.grad.is_sparse for p in params):
            group["fused"] = False
    if not any(group.get("fused") for group in optimizer.param_groups):
        optimizer._step_supports_amp_scaling = False  # no group takes GradScaler's scale now


def mark_fused_default(optimizer: Any, chosen: bool) -> None:
    """Record the choice on ``optimizer`` and, when fused, install the step pre-hook above."""
    try:
        optimizer.pimm_fused_default = chosen
    except AttributeError:  # pragma: no cover - a slotted optimizer class
        return
    if chosen and hasattr(optimizer, "register_step_pre_hook"):
        optimizer.register_step_pre_hook(_keep_fused_valid)
