"""``create_optimizer``: build any registered optimizer for a model or parameters, timm-style.

Differences from timm, each protecting users: a name prefix other than ``lookahead_`` is an
error (timm ignores it); options the optimizer does not accept are an error that names the
accepted ones; an empty parameter list, a parameter in two groups and an lr that is <= 0 or NaN
are errors; layer-wise decay applies each group's ``lr_scale`` to its ``lr`` (timm only records
it for its schedulers) and keeps the ``lr_scale`` key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import ConfigError, OptionsError, UnknownComponentError
from ..factory import create_entry, list_names, resolve
from ..specs import OptimizerSpec
from .param_groups import param_groups_layer_decay, param_groups_weight_decay

__all__ = ["create_optimizer", "create_optimizer_v2", "list_optimizers", "parse_optimizer_name"]

_LOOKAHEAD = "lookahead"


def list_optimizers(filter: str | Iterable[str] = "", exclude_filters: str | Iterable[str] | None = None) -> list[str]:
    """Registered optimizer names matching ``filter`` (fnmatch; '' = all) and no ``exclude_filters``."""
    return list_names("optimizer", filter or None, exclude_filters)


def parse_optimizer_name(opt: str) -> tuple[str, bool]:
    """Split ``opt`` into (registered name, use_lookahead); unknown prefixes are an error."""
    if not isinstance(opt, str) or not opt:
        raise ConfigError(f"opt must be an optimizer name such as 'sgd' or 'lookahead_adamw', got {opt!r}")
    name = opt
    lookahead = False
    if name.lower().startswith(_LOOKAHEAD + "_"):
        lookahead, name = True, name[len(_LOOKAHEAD) + 1:]
    try:
        name = _registered_name(name)
    except UnknownComponentError:
        if "_" in name and "::" not in name:
            prefix, _, rest = name.partition("_")
            raise ConfigError(
                f"unknown optimizer name prefix {prefix!r} in {opt!r}: the only prefix pimm understands is "
                f"'lookahead_' (timm silently ignores other prefixes). Did you mean {rest!r}?"
            ) from None
        raise
    return name, lookahead


def _registered_name(name: str) -> str:
    """``name`` as registered: exactly as given first (a plugin may register 'MyOpt'), then lower-case
    (timm's habit: 'AdamW' finds 'adamw')."""
    try:
        resolve("optimizer", name)
        return name
    except UnknownComponentError:
        if name.lower() == name:
            raise
    resolve("optimizer", name.lower())
    return name.lower()


def _check_lr(lr: Any, where: str) -> None:
    if lr is None:
        return
    value = float(lr)
    if math.isnan(value) or value <= 0:
        raise OptionsError(f"invalid learning rate {lr!r} {where}: it must be a positive number")


def _as_groups(params: Any) -> list[dict[str, Any]] | list[Any]:
    """Materialize params; check for emptiness and duplicates; return a list (of tensors or groups)."""
    items = list(params)
    if not items:
        raise ConfigError("create_optimizer got an empty parameter list: nothing to optimize "
                          "(are all parameters frozen with requires_grad=False?)")
    groups = items if isinstance(items[0], dict) else [{"params": items}]
    seen: dict[int, int] = {}
    total = 0
    for gi, group in enumerate(groups):
        if not isinstance(group, dict) or "params" not in group:
            raise ConfigError(f"parameter group {gi} must be a dict with a 'params' entry, got {type(group).__name__}")
        group_params = group["params"]
        group_params = [group_params] if hasattr(group_params, "data_ptr") else list(group_params)
        group["params"] = group_params
        _check_lr(group.get("lr"), f"in parameter group {gi}")
        for p in group_params:
            if id(p) in seen:
                raise ConfigError(
                    f"a parameter (shape {tuple(p.shape)}) appears in parameter groups {seen[id(p)]} and {gi}: "
                    "each parameter must belong to exactly one group"
                )
            seen[id(p)] = gi
        total += len(group_params)
    if total == 0:
        raise ConfigError("create_optimizer got parameter groups that hold no parameters")
    return groups if isinstance(items[0], dict) else items


def _default_lr(spec: OptimizerSpec, opt_args: dict[str, Any]) -> float | None:
    if "lr" in opt_args:
        return opt_args["lr"]
    field = spec.options.model_fields.get("lr")
    return None if field is None else field.default


def create_optimizer(
    model_or_params: Any,
    opt: str = "sgd",
    lr: float | None = None,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    foreach: bool | None = None,
    filter_bias_and_bn: bool = True,
    layer_decay: float | None = None,
    layer_decay_min_scale: float = 0.0,
    param_group_fn: Callable[[Any], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Create the optimizer registered as ``opt`` for a model (``nn.Module``) or parameters/groups.

    For a module: ``param_group_fn(model)`` if given, else layer-wise decay groups when
    ``layer_decay`` is set, else weight-decay groups (no decay for 1-D tensors, biases and the
    model's ``no_weight_decay()`` names) when ``filter_bias_and_bn``; the groups carry the decay.
    Arguments: ``lr`` (if given), the spec's registry defaults, ``momentum`` (only for
    optimizers with momentum), ``eps``/``betas`` dropped where the optimizer has none,
    ``foreach`` (if given), then ``kwargs``, all validated by the optimizer's options model.
    Optimizers tagged ``"fused"`` get ``fused=True`` when no path was chosen and the parameters
    allow it (:mod:`pimm.core.optim.fused`).
    ``lookahead_<name>`` wraps the result in :class:`Lookahead`.
    """
    name, use_lookahead = parse_optimizer_name(opt)
    entry = resolve("optimizer", name)  # built from this entry below: no second resolution
    spec = entry.spec
    _check_lr(lr, f"for optimizer {opt!r}")
    _check_lr(kwargs.get("lr"), f"for optimizer {opt!r}")

    lr_scaled = False
    if hasattr(model_or_params, "named_parameters") and hasattr(model_or_params, "parameters"):
        model = model_or_params
        no_decay = tuple(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else ()
        if param_group_fn is not None:
            params = param_group_fn(model)
        elif layer_decay is not None:
            params = param_groups_layer_decay(model, weight_decay=weight_decay, no_weight_decay_list=no_decay,
                                              layer_decay=layer_decay, min_scale=layer_decay_min_scale)
            weight_decay, lr_scaled = 0.0, True
        elif filter_bias_and_bn:
            params = param_groups_weight_decay(model, weight_decay, no_decay)
            weight_decay = 0.0
        else:
            params = [p for p in model.parameters() if p.requires_grad]
    else:
        params = model_or_params
    params = _as_groups(params)

    opt_args: dict[str, Any] = dict(kwargs)
    fields = spec.options.model_fields
    if weight_decay or "weight_decay" in fields:
        opt_args.setdefault("weight_decay", weight_decay)
    if lr is not None:
        opt_args.setdefault("lr", lr)
    for key, value in spec.defaults.items():
        opt_args.setdefault(key, value)
    if spec.has_momentum:
        opt_args.setdefault("momentum", momentum)
    if not spec.has_eps:
        opt_args.pop("eps", None)
    if not spec.has_betas:
        opt_args.pop("betas", None)
    if foreach is not None:
        if "foreach" in fields:
            opt_args.setdefault("foreach", foreach)
        elif foreach:
            raise OptionsError(f"optimizer {name!r} has no multi-tensor path: drop foreach=True")

    if lr_scaled:
        base_lr = _default_lr(spec, opt_args)
        if base_lr is not None:
            for group in params:
                group.setdefault("lr", base_lr * group["lr_scale"])

    from .fused import FUSED_TAG, mark_fused_default, use_fused_default

    fused_default = None
    if FUSED_TAG in spec.tags:  # torch's fused kernel where it computes the same rule (see .fused)
        fused_default = use_fused_default(opt_args, params)
        if fused_default:
            opt_args["fused"] = True
    optimizer = create_entry(entry, params, **opt_args)
    if fused_default is not None:
        mark_fused_default(optimizer, fused_default)
    _guard_state_dict_loading(optimizer)
    if use_lookahead:
        from .lookahead import Lookahead

        optimizer = Lookahead(optimizer)
    return optimizer


def _guard_state_dict_loading(optimizer: Any) -> None:
    """Make ``load_state_dict`` refuse another optimizer's state_dict (pimm's own classes already do)."""
    from .state_check import check_state_dict, torch_state_keys

    if not hasattr(optimizer, "register_load_state_dict_pre_hook") or hasattr(optimizer, "state_keys"):
        return
    keys = torch_state_keys(optimizer)
    optimizer.register_load_state_dict_pre_hook(lambda opt, state_dict: check_state_dict(opt, state_dict, keys))


#: timm's name for the same factory.
create_optimizer_v2 = create_optimizer
