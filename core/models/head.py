"""Classifier heads whose pooling is any registered pool component.

A model never hard-codes its pooling: it asks :func:`create_pool` for the pool named by its
``global_pool`` option, so a pool from a third-party plugin works with every model. The pool's
feature multiplier comes from its spec (``PoolSpec.feat_mult``), so the classifier is sized before
anything runs. ``global_pool=''`` gives unpooled maps; ``num_classes=0`` gives an identity classifier.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import LookupFailure
from ..factory import create_entry, resolve

__all__ = ["create_pool", "pool_feat_mult", "create_classifier", "ClassifierHead", "module_device_dtype"]


class _Unpooled(nn.Module):
    """Fallback for '' when the builtin pools plugin is blocked: passes maps through."""

    def __init__(self, flatten: bool = False) -> None:
        super().__init__()
        self.flatten = flatten

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) if self.flatten else x

    def is_identity(self) -> bool:
        """Always True: nothing is pooled."""
        return True

    def feat_mult(self) -> int:
        """Always 1: channels pass through."""
        return 1

    def _get_name(self) -> str:
        return "SelectAdaptivePool2d"  # printed like timm's pooling module, as the builtin pools are

    def extra_repr(self) -> str:
        return f"pool_type=, flatten={nn.Flatten(1) if self.flatten else nn.Identity()}"


def pool_feat_mult(name: str | None) -> int:
    """Output channels per input channel of the pool registered as ``name`` (1 for '')."""
    if not name:
        return 1
    # prefer_builtin: a third-party pool named like a builtin one ('avg') never makes a model's
    # default pooling ambiguous; it is reached by its qualified name (docs/plugin-authors.md).
    return int(getattr(resolve("pool", name, prefer_builtin=True).spec, "feat_mult", 1))


def create_pool(name: str | None, flatten: bool = True) -> nn.Module:
    """Build the registered pool ``name`` (''/None: no pooling, never flattened).

    The returned module carries ``pool_type`` (the name) and ``feat_mult`` so heads can be rebuilt
    with the same pooling and sized correctly.
    """
    name = name or ""
    feat_mult = 1
    if name == "":
        flatten = False  # unpooled maps stay maps, as timm's heads do
        try:
            pool = create_entry(resolve("pool", "", prefer_builtin=True), flatten=False)
        except LookupFailure:
            pool = _Unpooled(False)
    else:
        entry = resolve("pool", name, prefer_builtin=True)  # resolved once: spec and build
        feat_mult = int(getattr(entry.spec, "feat_mult", 1))
        pool = create_entry(entry, flatten=flatten)
    if not isinstance(pool, nn.Module):
        raise TypeError(f"pool {name!r} built a {type(pool).__name__}, expected a torch.nn.Module")
    for attr, value in (("pool_type", name), ("feat_mult", feat_mult)):
        if attr == "feat_mult" and callable(getattr(pool, attr, None)):
            continue  # the pool answers timm's feat_mult() itself
        try:
            setattr(pool, attr, value)
        except (AttributeError, TypeError):
            pass
    return pool


def module_device_dtype(module: nn.Module) -> tuple[torch.device | None, torch.dtype | None]:
    """Device and floating dtype of a module's first parameter (None, None when it has none)."""
    for param in module.parameters():
        return param.device, param.dtype
    return None, None


def create_classifier(
    num_features: int,
    num_classes: int,
    pool_type: str | None = "avg",
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[nn.Module, nn.Module]:
    """(pool, fc) for ``num_features`` input channels: fc is Identity when ``num_classes`` is 0."""
    pool = create_pool(pool_type, flatten=True)
    feat_mult = getattr(pool, "feat_mult", None)
    feat_mult = feat_mult() if callable(feat_mult) else feat_mult
    in_features = num_features * (feat_mult if isinstance(feat_mult, int) else pool_feat_mult(pool_type))
    if num_classes > 0:
        fc: nn.Module = nn.Linear(in_features, num_classes, device=device, dtype=dtype)
    else:
        fc = nn.Identity()
    return pool, fc


class ClassifierHead(nn.Module):
    """Pool → dropout → linear classifier, with keys ``global_pool``/``fc`` under the head."""

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        pool_type: str | None = "avg",
        drop_rate: float = 0.0,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.pool_type = pool_type or ""
        self.global_pool, self.fc = create_classifier(in_features, num_classes, self.pool_type, device, dtype)
        self.num_features = in_features * pool_feat_mult(self.pool_type)
        self.drop = nn.Dropout(drop_rate)

    def reset(self, num_classes: int, pool_type: str | None = None) -> None:
        """Rebuild pool and classifier (None keeps the pool type), keeping device, dtype and mode."""
        if pool_type is None:
            pool_type = self.pool_type
        device, dtype = module_device_dtype(self)
        self.pool_type = pool_type or ""
        self.global_pool, self.fc = create_classifier(self.in_features, num_classes, self.pool_type, device, dtype)
        self.num_features = self.in_features * pool_feat_mult(self.pool_type)
        self.global_pool.train(self.training)
        self.fc.train(self.training)

    def forward(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.global_pool(x)
        x = self.drop(x)
        if pre_logits:
            return x
        return self.fc(x)
