"""How each torchvision family maps onto pimm's model contract, as plain data (no torch import).

A *family* groups the torchvision builders that share a module layout. For each one this module
records where the first convolution and the final classifier live (state_dict paths, which keep
torchvision's own keys), which top-level children form the head (they are not part of
``forward_features`` or of the feature levels), and what kind of head torchvision builds:

* ``pooled``: global pooling, then (optionally) a few pre-logit layers, then the classifier. Any
  registered pool can replace the pooling (``global_pool``).
* ``grid``: AlexNet and VGG average-pool to a fixed grid and run an MLP on the flattened grid; the
  grid pool is part of the architecture, so ``global_pool`` is only ``'avg'`` (that grid) or ``''``.
* ``conv``: SqueezeNet classifies with a 1x1 convolution *before* pooling.
* ``tokens``: ViT classifies the class token (``global_pool`` is ``'token'``, ``'avg'`` or ``''``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Family", "FAMILIES", "family_of"]


@dataclass(frozen=True)
class Family:
    """Layout facts of one torchvision family."""

    name: str
    first_conv: str
    classifier: str
    head: str = "pooled"
    head_children: tuple[str, ...] = ("avgpool", "fc")
    dropout_arg: str | None = None
    drop_path_arg: str | None = None
    dilation: bool = False
    fixed_size_arg: str | None = None
    layout: str = "nchw"
    builder_args: dict[str, object] = field(default_factory=dict)


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("alexnet", "features.0", "classifier.6", head="grid", head_children=("avgpool", "classifier"),
           dropout_arg="dropout"),
    Family("vgg", "features.0", "classifier.6", head="grid", head_children=("avgpool", "classifier"),
           dropout_arg="dropout"),
    Family("squeezenet", "features.0", "classifier.1", head="conv", head_children=("classifier",),
           dropout_arg="dropout"),
    Family("resnet", "conv1", "fc", dilation=True),
    Family("regnet", "stem.0", "fc"),
    Family("densenet", "features.conv0", "classifier", head_children=("classifier",)),
    Family("googlenet", "conv1.conv", "fc", head_children=("aux1", "aux2", "avgpool", "dropout", "fc"),
           dropout_arg="dropout", builder_args={"aux_logits": False, "transform_input": True, "init_weights": True}),
    Family("inception", "Conv2d_1a_3x3.conv", "fc", head_children=("AuxLogits", "avgpool", "dropout", "fc"),
           dropout_arg="dropout", builder_args={"aux_logits": False, "transform_input": True, "init_weights": True}),
    Family("shufflenet", "conv1.0", "fc", head_children=("fc",)),
    Family("mnasnet", "layers.0", "classifier.1", head_children=("classifier",), dropout_arg="dropout"),
    Family("mobilenet_v2", "features.0.0", "classifier.1", head_children=("classifier",), dropout_arg="dropout"),
    Family("mobilenet_v3", "features.0.0", "classifier.3", head_children=("avgpool", "classifier"),
           dropout_arg="dropout"),
    Family("efficientnet", "features.0.0", "classifier.1", head_children=("avgpool", "classifier"),
           dropout_arg="dropout", drop_path_arg="stochastic_depth_prob"),
    Family("convnext", "features.0.0", "classifier.2", head_children=("avgpool", "classifier"),
           drop_path_arg="stochastic_depth_prob"),
    Family("maxvit", "stem.0.0", "classifier.5", head_children=("classifier",),
           drop_path_arg="stochastic_depth_prob", fixed_size_arg="input_size"),
    Family("swin", "features.0.0", "head", head_children=("permute", "avgpool", "flatten", "head"),
           drop_path_arg="stochastic_depth_prob", layout="nhwc"),
    Family("vit", "conv_proj", "heads.head", head="tokens", head_children=("heads",), dropout_arg="dropout",
           fixed_size_arg="image_size", layout="tokens"),
)}

# torchvision builder name prefix -> family (first match wins; order matters for 'mobilenet_v2/3').
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("alexnet", "alexnet"), ("vgg", "vgg"), ("squeezenet", "squeezenet"), ("resnet", "resnet"),
    ("resnext", "resnet"), ("wide_resnet", "resnet"), ("regnet", "regnet"), ("densenet", "densenet"),
    ("googlenet", "googlenet"), ("inception", "inception"), ("shufflenet", "shufflenet"), ("mnasnet", "mnasnet"),
    ("mobilenet_v2", "mobilenet_v2"), ("mobilenet_v3", "mobilenet_v3"), ("efficientnet", "efficientnet"),
    ("convnext", "convnext"), ("maxvit", "maxvit"), ("swin", "swin"), ("vit", "vit"),
)


def family_of(tv_name: str) -> Family:
    """The family of torchvision builder ``tv_name`` (KeyError naming the known prefixes otherwise)."""
    for prefix, family in _PREFIXES:
        if tv_name.startswith(prefix):
            return FAMILIES[family]
    raise KeyError(
        f"torchvision model {tv_name!r} belongs to no family pimm-torchvision knows "
        f"({', '.join(sorted(FAMILIES))}); add its layout to pimm_torchvision.families"
    )
