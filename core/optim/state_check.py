"""Refuse, at load time, an optimizer state_dict that another optimizer saved.

torch's ``Optimizer.load_state_dict`` copies whatever it is given: loading an Adam checkpoint into
SGDW succeeds and the next ``step()`` dies with a ``KeyError`` deep in the update (or, worse, runs
with settings that belong to the other rule). :func:`check_state_dict` compares the saved state
and parameter groups with what the receiving optimizer keeps and raises :class:`OptionsError`
naming the difference. Missing group settings are filled from the optimizer's defaults (a
checkpoint saved before an option existed still loads), so only settings or state that the
receiving optimizer does not know are refused.
"""

from __future__ import annotations

from typing import Any

from ..errors import OptionsError

__all__ = ["check_state_dict", "TORCH_STATE_KEYS", "torch_state_keys"]

#: Per-parameter state keys of the torch.optim classes pimm's registry builds.
TORCH_STATE_KEYS: dict[str, frozenset[str]] = {
    "SGD": frozenset({"momentum_buffer"}),
    "Adam": frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    "AdamW": frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    "NAdam": frozenset({"step", "exp_avg", "exp_avg_sq", "mu_product"}),
    "RAdam": frozenset({"step", "exp_avg", "exp_avg_sq"}),
    "Adamax": frozenset({"step", "exp_avg", "exp_inf"}),
    "Adadelta": frozenset({"step", "square_avg", "acc_delta"}),
    "Adagrad": frozenset({"step", "sum"}),
    "RMSprop": frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"}),
}

# Settings that name a rule: a saved group holding one the receiver lacks came from another optimizer.
_RULE_SETTINGS = frozenset({
    "betas", "eps", "momentum", "dampening", "nesterov", "alpha", "centered", "rho", "lr_decay",
    "amsgrad", "momentum_decay", "trust_coeff", "trust_clip", "delta", "wd_ratio", "no_prox", "rectify",
    "grad_averaging", "max_grad_norm", "bias_correction", "clip_exp", "gamma", "mars_type", "decay_rate",
    "eps_scale", "clip_threshold", "hessian_power", "lr_in_momentum", "decoupled", "decoupled_decay",
    "min_dim_size_to_factor", "beta2_cap", "ns_steps", "initial_accumulator_value", "fixed_decay",
})


def torch_state_keys(optimizer: Any) -> frozenset[str] | None:
    """The known state keys of a torch.optim optimizer's class (None when pimm does not know it)."""
    return TORCH_STATE_KEYS.get(type(optimizer).__name__)


def check_state_dict(optimizer: Any, state_dict: Any, state_keys: frozenset[str] | None = None) -> dict[str, Any]:
    """Raise OptionsError unless ``state_dict`` can be loaded into ``optimizer`` and stepped.

    Checks: the dict's shape; the number of groups and of parameters per group; no saved group
    setting that names a rule this optimizer does not have (e.g. ``betas`` into SGDW); and, when
    ``state_keys`` is given, no per-parameter state key outside it. Group settings the optimizer
    has but the checkpoint lacks are filled in from the optimizer's defaults, in the returned copy
    (the caller's dict is never modified).
    """
    name = type(optimizer).__name__
    if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
        raise OptionsError(f"not an optimizer state_dict (expected a dict with 'state' and 'param_groups'), "
                           f"got {type(state_dict).__name__}")
    saved_groups = state_dict["param_groups"]
    if len(saved_groups) != len(optimizer.param_groups):
        raise OptionsError(f"the state_dict has {len(saved_groups)} parameter groups but this {name} has "
                           f"{len(optimizer.param_groups)}: was it saved for another model or grouping?")
    own_keys = set(optimizer.defaults) | {k for g in optimizer.param_groups for k in g}
    filled = []
    for i, (saved, own) in enumerate(zip(saved_groups, optimizer.param_groups)):
        if len(saved.get("params", ())) != len(own["params"]):
            raise OptionsError(f"parameter group {i} of the state_dict holds {len(saved.get('params', ()))} "
                               f"parameters but this {name}'s holds {len(own['params'])}")
        foreign = sorted(k for k in saved if k in _RULE_SETTINGS and k not in own_keys)
        if foreign:
            raise OptionsError(
                f"this state_dict was saved by a different optimizer: its parameter group {i} has settings "
                f"{foreign} that {name} does not use. Load it into the optimizer that saved it, or start "
                "this optimizer fresh (e.g. pimm train --no-resume-opt)")
        filled.append({**{k: v for k, v in optimizer.defaults.items() if k != "params"}, **saved})
    result = {**state_dict, "param_groups": filled}
    if state_keys is None:
        return result
    for param_id, state in state_dict["state"].items():
        # Lookahead keeps its slow weights in the wrapped optimizer's state ("lookahead_*")
        unknown = sorted(k for k in set(state) - state_keys if not str(k).startswith("lookahead_"))
        if unknown:
            raise OptionsError(
                f"this state_dict was saved by a different optimizer: the state of parameter {param_id} holds "
                f"{unknown}, which {name} does not keep (it keeps {sorted(state_keys)}). Load it into the "
                "optimizer that saved it, or start this optimizer fresh")
    return result
