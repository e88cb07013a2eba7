"""pimm-torchvision: every torchvision classification model as a pimm model component.

This entry module only turns the spec table (``data/torchvision_models.json``, generated from
torchvision by ``scripts/generate_table.py``) into :class:`~pimm.core.specs.ModelSpec` objects. It
imports neither torch nor torchvision, so ``pimm list model`` stays fast; the models are built by
:class:`pimm_torchvision.model.TorchvisionNet` when one is created.

Names are ``tv-<torchvision builder>`` (``tv-resnet50``), tags are torchvision's weight names in
lower case (``tv-resnet50.imagenet1k_v2``) and the default tag is torchvision's ``DEFAULT``.
"""

from __future__ import annotations

from typing import Any

from pimm.core import hookimpl
from pimm.core.specs import ModelSpec, PretrainedCfg

from .families import family_of
from .options import FixedSizeOptions, GridHeadOptions, TokenOptions, TorchvisionOptions
from .table import crop_pct_for, load_table, pimm_name, torchvision_name

__all__ = ["pimm_models", "model_specs", "pretrained_cfg", "LARGE_PARAMS"]

#: Models over this many parameters carry the ``large`` tag (conformance cases only with --run-large).
LARGE_PARAMS = 100_000_000
TARGET = "pimm_torchvision.model:TorchvisionNet"


def pretrained_cfg(name: str, arch: dict[str, Any], weight: dict[str, Any], labels: dict[str, list[str]]) -> PretrainedCfg:
    """The pretrained config of one torchvision weight: URL, hash prefix, eval preprocessing, classes."""
    family = family_of(torchvision_name(name))
    crop, resize = weight["crop_size"], weight["resize_size"]
    min_h, min_w = weight["min_size"]
    metrics = "; ".join(
        f"{dataset} " + ", ".join(f"{k} {v}" for k, v in values.items() if v is not None)
        for dataset, values in weight["metrics"].items() if any(v is not None for v in values.values())
    )
    notes = [f"torchvision weights {weight['weight_name']} ({weight['url'].rsplit('/', 1)[-1]})"]
    if weight["labels"] is None:
        notes.append("torchvision publishes these weights for feature extraction: the classifier is not trained")
    return PretrainedCfg(
        url=weight["url"],
        hash_prefix=weight["hash_prefix"],
        architecture=name,
        tag=weight["tag"],
        input_size=(3, crop, crop),
        min_input_size=(3, min_h, min_w) if max(min_h, min_w) > 1 else None,
        fixed_input_size=family.fixed_size_arg is not None,
        interpolation=weight["interpolation"],
        crop_pct=crop_pct_for(crop, resize),
        crop_mode="center",
        mean=tuple(weight["mean"]),
        std=tuple(weight["std"]),
        num_classes=weight["num_classes"] or 1000,
        label_names=tuple(labels[weight["labels"]]) if weight["labels"] else None,
        first_conv=family.first_conv,
        classifier=family.classifier,
        license=weight["license"] or "bsd-3-clause",
        origin_url=weight["recipe"],
        description=f"torchvision {weight['weight_name']}" + (f": {metrics}" if metrics else ""),
        notes=tuple(notes),
    )


def _options_for(family_name: str) -> type[TorchvisionOptions]:
    if family_name in ("alexnet", "vgg", "squeezenet"):
        return GridHeadOptions
    if family_name == "vit":
        return TokenOptions
    if family_name == "maxvit":
        return FixedSizeOptions
    return TorchvisionOptions


def model_specs(table: dict[str, Any] | None = None) -> list[ModelSpec]:
    """One ModelSpec per architecture of the table."""
    table = table or load_table()
    labels = table["label_sets"]
    specs = []
    for tv_name, arch in table["architectures"].items():
        name = pimm_name(tv_name)
        family = family_of(tv_name)
        tags = {"grad_checkpointing"}
        if arch["feature_info"]:
            tags.add("features")
        if family.head == "pooled":
            tags.add("classifier")
        if arch["num_params"] > LARGE_PARAMS:
            tags.add("large")
        cfgs = {w["tag"]: pretrained_cfg(name, arch, w, labels) for w in arch["weights"]}
        specs.append(ModelSpec(
            name=name,
            target=TARGET,
            options=_options_for(family.name),
            arch_args={"tv_name": tv_name, "num_features": arch["num_features"], "feature_info": arch["feature_info"],
                       **({"default_img_size": arch["weights"][0]["crop_size"]} if family.fixed_size_arg else {})},
            pretrained_cfgs=cfgs,
            tags=frozenset(tags),
            summary=f"torchvision {tv_name} ({arch['num_params'] / 1e6:.1f}M params, {family.name} family)",
        ))
    return specs


@hookimpl
def pimm_models() -> list[ModelSpec]:
    """Every classification model of torchvision (as recorded in the spec table)."""
    return model_specs()
