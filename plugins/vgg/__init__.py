"""Builtin plugin 'vgg': VGG-11/13/16/19 with and without batch norm, in timm's layout.

Specs only (no torch import here); the torch code is in :mod:`.model`, the torchvision key remap
in :mod:`.remap`.
"""

from __future__ import annotations

from typing import Any

from pimm.core import hookimpl
from pimm.core.specs import ModelSpec, PretrainedCfg

#: Conv widths per layer; 'M' is a 2x2 max pool.
LAYER_CFGS: dict[str, list[Any]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}

#: Dotted path of the function that turns torchvision VGG checkpoints into this layout.
TORCHVISION_REMAP = "pimm.plugins.vgg.remap:remap_torchvision_vgg"

_TAGS = frozenset({"classifier", "features", "intermediates", "vgg", "large", "early_pool"})


def _cfg(name: str) -> PretrainedCfg:
    return PretrainedCfg(
        hf_hub_id=f"timm/{name}.tv_in1k",
        url="",
        architecture=name,
        tag="tv_in1k",
        interpolation="bilinear",
        pool_size=(7, 7),
        first_conv="features.0",
        classifier="head.fc",
        license="bsd-3-clause",
    )


@hookimpl
def pimm_models() -> list[ModelSpec]:
    """vgg11, vgg11_bn, ..., vgg19_bn (all over 100M parameters, hence tagged 'large')."""
    specs = []
    for base, layers in LAYER_CFGS.items():
        for batch_norm in (False, True):
            name = f"{base}_bn" if batch_norm else base
            specs.append(
                ModelSpec(
                    name=name,
                    target="pimm.plugins.vgg.model:VGG",
                    options="pimm.plugins.vgg.options:VGGOptions",
                    arch_args={"layer_cfg": layers, "batch_norm": batch_norm},
                    pretrained_cfgs={"tv_in1k": _cfg(name)},
                    tags=_TAGS,
                    summary=f"VGG-{base[3:]}{' with batch norm' if batch_norm else ''}: 3x3 conv stacks, "
                    "conv-MLP pre-logits, linear classifier.",
                )
            )
    return specs
