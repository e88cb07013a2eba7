"""Cross-entropy and binary cross-entropy loss modules for classification."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pimm.core.errors import ConfigError

__all__ = ["CrossEntropyLoss", "BinaryCrossEntropy"]


def _check_batch(x: torch.Tensor, target: torch.Tensor, name: str) -> None:
    if x.ndim != 2 or target.shape[0] != x.shape[0] or target.shape not in (x.shape[:1], x.shape):
        raise ConfigError(f"{name} needs logits (B, C) and targets (B,) of class indices or (B, C) of per-class "
                          f"values; got logits {tuple(x.shape)} and targets {tuple(target.shape)}")


class CrossEntropyLoss(nn.CrossEntropyLoss):
    """torch's cross-entropy with ``smoothing`` as its ``label_smoothing``; clear errors on bad shapes."""

    def __init__(self, smoothing: float = 0.0) -> None:
        super().__init__(label_smoothing=smoothing)

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss for logits (B, C) and class indices (B,) or probabilities (B, C)."""
        _check_batch(x, target, "cross_entropy")
        return super().forward(x, target if target.shape == x.shape else target.long())


class BinaryCrossEntropy(nn.Module):
    """Binary cross-entropy on every class's logit (sigmoid), with timm's BCE options.

    Class-index targets become one-hot rows with ``off = smoothing / C`` and ``on = 1 - smoothing + off``;
    per-class targets (Mixup) are used as they are (moved towards 0.5 by ``smoothing`` when
    ``smooth_dense``). ``target_threshold`` then binarizes them (``> threshold`` -> 1).
    """

    def __init__(self, smoothing: float = 0.1, target_threshold: float | None = None, sum_classes: bool = False,
                 pos_weight: float | None = None, reduction: str = "mean", smooth_dense: bool = False) -> None:
        super().__init__()
        if not 0.0 <= smoothing < 1.0:
            raise ConfigError(f"bce smoothing must be in [0, 1), got {smoothing}")
        self.smoothing = smoothing
        self.target_threshold = target_threshold
        self.sum_classes = sum_classes
        self.reduction = reduction
        self.smooth_dense = smooth_dense
        self.register_buffer("pos_weight", None if pos_weight is None else torch.tensor(float(pos_weight)))

    def dense_target(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The per-class target the loss compares with, for logits ``x``."""
        if target.shape != x.shape:
            classes = x.shape[-1]
            off = self.smoothing / classes
            dense = torch.full_like(x, off)
            dense.scatter_(1, target.long().view(-1, 1), 1.0 - self.smoothing + off)
        else:
            dense = target.to(x.dtype)
            if self.smooth_dense and self.smoothing:
                dense = dense * (1.0 - self.smoothing) + 0.5 * self.smoothing
        if self.target_threshold is not None:
            dense = (dense > self.target_threshold).to(x.dtype)
        return dense

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss for logits (B, C) and class indices (B,) or per-class targets (B, C)."""
        _check_batch(x, target, "bce")
        dense = self.dense_target(x, target)
        per = F.binary_cross_entropy_with_logits(x, dense, pos_weight=self.pos_weight, reduction="none")
        if self.sum_classes:
            return per.sum(-1).mean()
        return per.sum() if self.reduction == "sum" else per.mean()

    def extra_repr(self) -> str:
        return (f"smoothing={self.smoothing}, target_threshold={self.target_threshold}, "
                f"sum_classes={self.sum_classes}")
