"""Classification losses for smoothed and mixed (soft) targets."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

__all__ = ["SoftTargetCrossEntropy", "LabelSmoothingCrossEntropy"]


class SoftTargetCrossEntropy(nn.Module):
    """Cross-entropy against a probability target per sample (e.g. Mixup/CutMix targets).

    ``loss = mean_b Σ_c -target[b, c] · log_softmax(x)[b, c]``.
    """

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss over the batch for logits ``x`` (B, C) and soft targets (B, C)."""
        if target.shape != x.shape:
            raise ValueError(
                f"SoftTargetCrossEntropy needs targets shaped like the logits {tuple(x.shape)}, got "
                f"{tuple(target.shape)}; for class indices use LabelSmoothingCrossEntropy or nn.CrossEntropyLoss"
            )
        loss = torch.sum(-target * F.log_softmax(x, dim=-1), dim=-1)
        return loss.mean()


class LabelSmoothingCrossEntropy(nn.Module):
    """Cross-entropy with label smoothing for class-index targets.

    ``loss = mean_b [(1-s)·(-log p[target]) + s·mean_c(-log p_c)]``.
    """

    def __init__(self, smoothing: float = 0.1) -> None:
        super().__init__()
        if not 0.0 <= smoothing < 1.0:
            raise ConfigError(f"smoothing must be in [0, 1), got {smoothing!r}")
        self.smoothing = smoothing
        self.confidence = 1.0 - smoothing

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss over the batch for logits ``x`` (B, C) and class indices ``target`` (B,)."""
        logprobs = F.log_softmax(x, dim=-1)
        nll = -logprobs.gather(dim=-1, index=target.long().unsqueeze(1)).squeeze(1)
        smooth = -logprobs.mean(dim=-1)
        return (self.confidence * nll + self.smoothing * smooth).mean()

    def extra_repr(self) -> str:
        return f"smoothing={self.smoothing}"
