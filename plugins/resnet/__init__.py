"""Builtin plugin 'resnet': every architecture of timm's ResNet family, from one generic builder.

Specs only (no torch import here): architecture arguments live in :mod:`.archs`, pretrained
configs in ``pretrained_cfgs.json``, the torch code in :mod:`.model`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pimm.core import hookimpl
from pimm.core.specs import ModelSpec, PretrainedCfg

from .archs import ARCHS, DEPRECATED, LARGE

_TARGET = "pimm.plugins.resnet.model:ResNet"
_OPTIONS = "pimm.plugins.resnet.options:ResNetOptions"
_TAGS = frozenset({"classifier", "features", "grad_checkpointing", "intermediates", "resnet"})


def _load_cfgs() -> dict[str, dict[str, dict[str, Any]]]:
    text = resources.files(__name__).joinpath("pretrained_cfgs.json").read_text(encoding="utf-8")
    return json.loads(text)


def _summary(args: dict[str, Any]) -> str:
    block = args["block"] if isinstance(args["block"], str) else "mixed"
    parts = [f"{block} blocks {'-'.join(str(n) for n in args['layers'])}"]
    if args.get("cardinality", 1) > 1:
        parts.append(f"{args['cardinality']}x{args['base_width']}d groups")
    elif args.get("base_width", 64) != 64:
        parts.append(f"width x{args['base_width'] // 64}")
    if args.get("stem_type"):
        parts.append(f"{args['stem_type'].replace('_', ' ')} stem {args.get('stem_width', 64)}")
    if args.get("avg_down"):
        parts.append("avg-pool downsample")
    if args.get("attn"):
        parts.append(args["attn"].upper() + " attention")
    if args.get("aa"):
        parts.append(f"{args['aa']}-pool anti-aliasing")
    if args.get("norm") == "groupnorm":
        parts.append("GroupNorm")
    if args.get("pruned_widths"):
        parts.append("channel-pruned")
    return "ResNet: " + ", ".join(parts) + "."


def _deprecations_for(name: str) -> dict[str, str]:
    return {old: new for old, new in DEPRECATED.items() if new.split(".", 1)[0] == name}


@hookimpl
def pimm_models() -> list[ModelSpec]:
    """One spec per ResNet-family architecture, with its pretrained configs by tag."""
    cfgs = _load_cfgs()
    specs = []
    for name, args in ARCHS.items():
        tags = _TAGS | {"large"} if name in LARGE else _TAGS
        pretrained = {
            tag: PretrainedCfg(architecture=name, tag=tag, **cfg) for tag, cfg in cfgs.get(name, {}).items()
        }
        specs.append(
            ModelSpec(
                name=name,
                target=_TARGET,
                options=_OPTIONS,
                arch_args=args,
                pretrained_cfgs=pretrained,
                deprecated_names=_deprecations_for(name),
                tags=tags,
                summary=_summary(args),
            )
        )
    return specs
