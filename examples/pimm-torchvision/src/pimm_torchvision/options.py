"""Options models of the bridged torchvision models (no torch import).

They extend pimm's :class:`~pimm.core.models.options.ModelOptions`. ``drop_rate`` and
``drop_path_rate`` default to ``None``, meaning torchvision's own value for the architecture (its
head dropout, its ``stochastic_depth_prob``), so an untouched model trains as torchvision's does.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from pimm.core.models.options import ModelOptions

__all__ = ["TorchvisionOptions", "GridHeadOptions", "FixedSizeOptions", "TokenOptions"]


class TorchvisionOptions(ModelOptions):
    """Options of a torchvision conv net (pooled head: any registered pool works as ``global_pool``)."""

    drop_rate: float | None = Field(
        None, ge=0.0, lt=1.0,
        description="Dropout before the classifier; None keeps torchvision's value for the architecture.")
    drop_path_rate: float | None = Field(
        None, ge=0.0, lt=1.0,
        description="Stochastic depth (torchvision's stochastic_depth_prob) for convnext, efficientnet, maxvit "
        "and swin; None keeps torchvision's value. Other families have none: only 0 is accepted.")


class GridHeadOptions(TorchvisionOptions):
    """AlexNet, VGG and SqueezeNet: the pooling is part of torchvision's head, not a free choice."""

    global_pool: str = Field(
        "avg", description="'avg': torchvision's own pooling; '': unpooled maps (AlexNet/VGG need num_classes=0).")

    @field_validator("global_pool", mode="before")
    @classmethod
    def _pool_registered(cls, value: object) -> object:
        value = value or ""
        if value not in ("avg", ""):
            raise ValueError(f"global_pool must be 'avg' (torchvision's pooling) or '', got {value!r}: these "
                             "architectures pool to a fixed grid or after a conv classifier")
        return value


class FixedSizeOptions(TorchvisionOptions):
    """MaxViT: built for one input size."""

    img_size: int | tuple[int, int] | None = Field(
        None, description="Input size the model is built for (pixels); None: the size of its default weights.")


class TokenOptions(FixedSizeOptions):
    """ViT: tokens out of forward_features, class-token head; no feature maps."""

    global_pool: str = Field(
        "token", description="'token': the class token; 'avg': mean of the patch tokens; '': all tokens.")
    features_only: bool = Field(
        False, description="Not available: ViT has no feature maps. Use forward_features (tokens) instead.")
    out_indices: Any = Field(None, description="Only with features_only, which ViT does not support.")
    feature_cls: str = Field("list", description="Only with features_only, which ViT does not support.")

    @field_validator("global_pool", mode="before")
    @classmethod
    def _pool_registered(cls, value: object) -> object:
        value = value or ""
        if value not in ("token", "avg", ""):
            raise ValueError(f"global_pool for ViT must be 'token', 'avg' or '', got {value!r}")
        return value

    @field_validator("features_only")
    @classmethod
    def _no_feature_maps(cls, value: bool) -> bool:
        if value:
            raise ValueError("ViT models have no feature maps, so features_only=True is not available; use "
                             "model.forward_features(x) for the (B, 1 + N, C) tokens")
        return value
