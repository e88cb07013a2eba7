"""Build the spec table from the installed torchvision (imports torch; run by the script and the tests).

The table is what the plugin's entry module reads to register every model without importing
torch: per architecture its family, parameter count, feature width, feature levels and the
pretrained weights (tag, URL, hash prefix, preprocessing, classes, recipe, licence). Label names
are stored once per distinct list. Feature levels are measured by running each model on the
``meta`` device (shapes only, no memory, no compute).
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from .families import family_of

__all__ = ["build_table", "weight_entry", "structure_of", "DEFAULT_LABEL_SET"]

#: torch hub's file-name convention: ``name-<first hex digits of the sha256>.ext``.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")
DEFAULT_LABEL_SET = "imagenet1k"


def _label_key(categories: list[str] | None, label_sets: dict[str, list[str]]) -> str | None:
    if not categories:
        return None
    for key, names in label_sets.items():
        if names == list(categories):
            return key
    digest = hashlib.sha256("\n".join(categories).encode()).hexdigest()[:8]
    key = DEFAULT_LABEL_SET if len(categories) == 1000 and DEFAULT_LABEL_SET not in label_sets else f"labels_{digest}"
    label_sets[key] = list(categories)
    return key


def weight_entry(weights: Any, label_sets: dict[str, list[str]]) -> dict[str, Any]:
    """The table row of one torchvision weights enum member (preprocessing read off ``transforms()``)."""
    meta = weights.meta
    preset = weights.transforms()
    crop = int(preset.crop_size[0])
    resize = int(preset.resize_size[0])
    filename = weights.url.rsplit("/", 1)[-1]
    found = _HASH_IN_NAME.search(filename)
    categories = meta.get("categories")
    metrics = {  # NaN (VGG16's feature-only weights) becomes None: JSON has no NaN, and NaN != NaN
        dataset: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in values.items()}
        for dataset, values in (meta.get("_metrics") or {}).items()
    }
    return {
        "tag": weights.name.lower(),
        "weight_name": weights.name,
        "url": weights.url,
        "hash_prefix": found.group(1) if found else None,
        "crop_size": crop,
        "resize_size": resize,
        "interpolation": preset.interpolation.value,
        "mean": [float(v) for v in preset.mean],
        "std": [float(v) for v in preset.std],
        "num_classes": len(categories) if categories else None,
        "labels": _label_key(categories, label_sets),
        "min_size": list(meta.get("min_size") or (1, 1)),
        "num_params": int(meta["num_params"]),
        "recipe": meta.get("recipe"),
        "license": meta.get("license"),
        "metrics": metrics,
        "file_size_mb": meta.get("_file_size"),
        "gflops": meta.get("_ops"),
    }


def _meta_model(tv_name: str) -> Any:
    """The torchvision model on the ``meta`` device (RegNet computes its widths on real tensors)."""
    import torch
    import torchvision.models as tvm
    from torchvision.models import regnet

    family = family_of(tv_name)
    original = regnet.BlockParams.from_init_params

    def on_cpu(*args: Any, **kwargs: Any) -> Any:
        with torch.device("cpu"):
            return original(*args, **kwargs)

    regnet.BlockParams.from_init_params = on_cpu  # type: ignore[method-assign]
    try:
        with torch.device("meta"):
            return tvm.get_model(tv_name, weights=None, **family.builder_args).eval()
    finally:
        regnet.BlockParams.from_init_params = original  # type: ignore[method-assign]


def structure_of(tv_name: str, size: int) -> dict[str, Any]:
    """num_features and feature levels of ``tv_name``, measured at ``size`` px on the meta device."""
    import torch

    family = family_of(tv_name)
    model = _meta_model(tv_name)
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = []

    def recorder(name: str) -> Any:
        def record(_module: Any, _inputs: Any, out: Any) -> None:
            if isinstance(out, torch.Tensor):
                shapes.setdefault(name, tuple(out.shape))
        return record

    for name, module in model.named_modules():
        if name and name.split(".")[0] not in family.head_children:
            hooks.append(module.register_forward_hook(recorder(name)))
    with torch.no_grad():
        model(torch.empty(1, 3, size, size, device="meta"))
    for hook in hooks:
        hook.remove()
    body = [n for n in shapes if "." not in n]
    last = shapes[body[-1]]
    if family.layout == "tokens":
        return {"num_features": int(last[-1]), "feature_info": None}
    if family.layout == "nhwc":
        stage_outputs = [n for n in shapes if re.fullmatch(r"features\.[1357]", n)]
        info = [{"module": n, "num_chs": int(shapes[n][-1]), "reduction": size // int(shapes[n][1])}
                for n in stage_outputs]
        return {"num_features": int(last[-1]), "feature_info": info}
    by_reduction: dict[int, list[str]] = {}
    for name, shape in shapes.items():
        if len(shape) != 4 or shape[0] != 1 or shape[-1] != shape[-2] or shape[-1] < 2:
            continue  # not a square NCHW map (NHWC blocks, window partitions, SE gates)
        ratio = size / shape[-1]
        reduction = 2 ** round(math.log2(ratio))
        if abs(ratio / reduction - 1) > 0.25:
            continue
        by_reduction.setdefault(reduction, []).append(name)
    info = []
    for reduction in sorted(by_reduction):
        names = by_reduction[reduction]
        depth = min(n.count(".") for n in names)
        chosen = [n for n in names if n.count(".") == depth][-1]
        info.append({"module": chosen, "num_chs": int(shapes[chosen][1]), "reduction": reduction})
    return {"num_features": info[-1]["num_chs"], "feature_info": info}  # the deepest level feeds the head


def build_table(structure: bool = True) -> dict[str, Any]:
    """The whole spec table for every classification model of the installed torchvision.

    ``structure=False`` skips the measured part (feature width and levels, under a minute for every
    model): what is left needs no model at all and is what the quick consistency test compares.
    """
    import torchvision
    import torchvision.models as tvm

    label_sets: dict[str, list[str]] = {}
    archs: dict[str, Any] = {}
    for tv_name in sorted(tvm.list_models(module=tvm)):
        family = family_of(tv_name)
        enum = tvm.get_model_weights(tv_name)
        default = enum.DEFAULT
        ordered = [default] + [w for w in enum if w is not default]
        weights = [weight_entry(w, label_sets) for w in ordered]
        size = 299 if family.name == "inception" else 224  # fixed-size builders default to 224
        archs[tv_name] = {
            "family": family.name,
            "num_params": weights[0]["num_params"],
            "default_size": size,
            **(structure_of(tv_name, size) if structure else {}),
            "weights": weights,
        }
    return {"torchvision_version": torchvision.__version__, "label_sets": label_sets, "architectures": archs}
