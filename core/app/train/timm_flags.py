"""timm ``train.py`` spellings that ``pimm train`` accepts, and what each one turns into.

Some are plain aliases of a pimm flag (``--gp`` is ``--global-pool``); some fill pimm's option
dictionaries (``--opt-eps`` is ``eps`` in ``opt_kwargs``, ``--drop-block`` is ``drop_block_rate`` in
``model_kwargs``); some are TrainConfig fields of their own (``--no-aug``, ``--lr-base-size``). The
table in docs/train.md ("timm flag → pimm") lists them with the places pimm differs.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from ...errors import ConfigError

__all__ = ["TIMM_OPTIONS", "translate_timm_flags", "parse_kwargs", "scaled_lr", "sync_batchnorm", "ADAPTIVE_HINTS"]

#: (flags, argparse keywords) added to ``pimm train``; every default is SUPPRESS (only given flags count).
TIMM_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--gp",), {"dest": "global_pool", "help": "timm's spelling of --global-pool"}),
    (("--drop",), {"type": float, "dest": "drop_rate", "help": "timm's spelling of --drop-rate"}),
    (("--drop-path",), {"type": float, "dest": "drop_path_rate", "help": "timm's spelling of --drop-path-rate"}),
    (("--drop-block",), {"type": float, "dest": "drop_block", "metavar": "RATE",
                         "help": "DropBlock rate (models that have it, e.g. ResNets: model option drop_block_rate)"}),
    (("--model-kwargs",), {"nargs": "+", "metavar": "KEY=VALUE", "dest": "model_kwargs",
                           "help": "further model options, e.g. --model-kwargs zero_init_last=False"}),
    (("--opt-kwargs",), {"nargs": "+", "metavar": "KEY=VALUE", "dest": "opt_kwargs",
                         "help": "further optimizer options, e.g. --opt-kwargs nesterov=False"}),
    (("--opt-eps",), {"type": float, "dest": "opt_eps", "metavar": "EPS", "help": "optimizer epsilon"}),
    (("--opt-betas",), {"type": float, "nargs": "+", "dest": "opt_betas", "metavar": "BETA",
                        "help": "optimizer betas"}),
    (("--lr-base-size",), {"type": int, "help": "global batch size --lr-base refers to"}),
    (("--lr-base-scale",), {"choices": ("linear", "sqrt"),
                            "help": "how the lr scales with the batch (default: sqrt for adaptive optimizers, "
                                    "names containing 'ada' or 'lamb', else linear)"}),
    (("--train-interpolation",), {"help": "training resize interpolation (default: random, as timm)"}),
    (("--no-aug",), {"action": "store_true", "help": "no training augmentation: resize + centre crop only"}),
    (("--grad-checkpointing",), {"action": "store_true",
                                 "help": "recompute activations in the backward pass (less memory, more time)"}),
    (("--pin-mem",), {"action": "store_true", "dest": "pin_mem",
                      "help": "pin loader memory (default: on with CUDA, where it helps)"}),
    (("--no-pin-mem",), {"action": "store_false", "dest": "pin_mem", "help": "never pin loader memory"}),
    (("--aug-repeats",), {"type": int, "metavar": "N",
                          "help": "repeated augmentation: each chosen image N times per epoch (0: off)"}),
    (("--sync-bn",), {"action": "store_true", "help": "synchronised BatchNorm across processes (CUDA)"}),
    (("--no-resume-opt",), {"action": "store_true",
                            "help": "--resume without the optimizer state (weights and epoch only)"}),
    (("--recovery-interval",), {"type": int, "metavar": "N",
                                "help": "also write the weights to RUN/recovery every N optimizer steps (0: off)"}),
    (("--start-epoch",), {"type": int, "metavar": "N", "help": "start at epoch N (0-based), the lr schedule too"}),
    (("--amp-dtype",), {"choices": ("float16", "bfloat16", "fp16", "bf16"), "dest": "amp_dtype",
                        "help": "mixed precision dtype; turns --amp on with that dtype"}),
]

_AMP = {"float16": "fp16", "fp16": "fp16", "bfloat16": "bf16", "bf16": "bf16"}
#: Substrings of an optimizer name that make timm's default lr scaling the square root.
ADAPTIVE_HINTS = ("ada", "lamb")


def parse_kwargs(items: list[str] | dict[str, Any], flag: str) -> dict[str, Any]:
    """``['a=1', 'b=(0.9, 0.99)', 'c=x']`` -> ``{'a': 1, 'b': (0.9, 0.99), 'c': 'x'}`` (Python literals, else text)."""
    if isinstance(items, dict):
        return dict(items)
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} takes KEY=VALUE pairs, got {item!r} (e.g. {flag} momentum=0.8)")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        out[key.strip()] = value
    return out


def translate_timm_flags(given: dict[str, Any]) -> dict[str, Any]:
    """Turn the timm-only flags among the ``given`` command-line values into TrainConfig fields."""
    given = dict(given)
    if "data_path" in given:
        path = given.pop("data_path")
        if "data" in given and given["data"] != path:
            raise ConfigError(f"got the data directory twice: {path!r} and --data {given['data']!r}; pass one")
        given["data"] = path
    for key, flag in (("model_kwargs", "--model-kwargs"), ("opt_kwargs", "--opt-kwargs")):
        if key in given:
            given[key] = parse_kwargs(given[key], flag)
    if "drop_block" in given:
        given.setdefault("model_kwargs", {})["drop_block_rate"] = given.pop("drop_block")
    if "opt_eps" in given:
        given.setdefault("opt_kwargs", {})["eps"] = given.pop("opt_eps")
    if "opt_betas" in given:
        given.setdefault("opt_kwargs", {})["betas"] = tuple(given.pop("opt_betas"))
    if "amp_dtype" in given:
        dtype = _AMP[given.pop("amp_dtype")]
        if given.get("amp") not in (None, dtype):
            raise ConfigError(f"--amp {given['amp']} and --amp-dtype {dtype} disagree; pass one")
        given["amp"] = dtype
    return given


def scaled_lr(cfg: Any, global_batch: int) -> float:
    """The learning rate of a run: ``--lr``, else ``--lr-base`` scaled from ``--lr-base-size`` to the global batch.

    The scaling is linear, or the square root (timm's rule for adaptive optimizers: names holding
    'ada' or 'lamb') unless ``--lr-base-scale`` says which.
    """
    if cfg.lr:
        return float(cfg.lr)
    rule = getattr(cfg, "lr_base_scale", None)
    if rule is None:
        name = cfg.opt.lower()
        rule = "sqrt" if any(h in name for h in ADAPTIVE_HINTS) else "linear"
    ratio = global_batch / getattr(cfg, "lr_base_size", 256)
    return float(cfg.lr_base * (math.sqrt(ratio) if rule == "sqrt" else ratio))


def sync_batchnorm(model: Any, distributed: bool, device: Any) -> tuple[Any, str]:
    """``--sync-bn``: the model with synchronised BatchNorm when it can help, and a note saying what happened.

    One process: nothing to synchronise (the model is unchanged). Several CPU processes: torch's
    SyncBatchNorm runs on accelerators only, so it is an error. Otherwise every BatchNorm layer is
    converted (the parameters are the same objects, so an optimizer built later sees them).
    """
    import torch

    if not distributed:
        return model, "--sync-bn has no effect with one process; BatchNorm is left as it is"
    if getattr(device, "type", "cpu") == "cpu":
        raise ConfigError("--sync-bn needs CUDA devices (torch's SyncBatchNorm does not run on the CPU); "
                          "train without it on the CPU")
    converted = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    count = sum(isinstance(m, torch.nn.SyncBatchNorm) for m in converted.modules())
    return converted, f"--sync-bn: {count} BatchNorm layers synchronised across processes"
