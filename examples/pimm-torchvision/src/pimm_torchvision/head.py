"""The classifier side of a bridged torchvision model: pool, pre-logit layers, dropout, classifier.

torchvision's heads are kept where they are (so state_dict keys stay torchvision's) but their
parameter-free parts (pooling, flatten, dropout) are replaced: pooling by any registered pimm pool,
dropout by one ``head_drop`` right before the classifier. The layers between pool and classifier
(MobileNetV3's Linear+Hardswish, MaxViT's LayerNorm+Linear+Tanh, ConvNeXt's LayerNorm2d) run on
channel-last features, so they apply to pooled vectors and, with ``global_pool=''``, per position.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PARAMETER_FREE", "run_pre_logits", "resize_pre_logits", "set_submodule"]

#: Head modules whose work pimm's head does itself (pooling, flattening, dropout).
PARAMETER_FREE = (nn.AdaptiveAvgPool2d, nn.Flatten, nn.Dropout)


def _is_norm2d(module: nn.Module) -> bool:
    return type(module).__name__ == "LayerNorm2d"


def run_pre_logits(layers: list[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """Apply the pre-logit layers to channel-last features ``(..., C)``."""
    for layer in layers:
        if _is_norm2d(layer):
            x = F.layer_norm(x, layer.normalized_shape, layer.weight, layer.bias, layer.eps)
        else:
            x = layer(x)
    return x


def resize_pre_logits(layers: list[nn.Module], width: int, device: torch.device | None,
                      dtype: torch.dtype | None) -> tuple[list[nn.Module], int]:
    """Layers fitted to input ``width`` (fresh ones where the width changed) and their output width."""
    fitted: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, nn.Linear):
            if layer.in_features != width:
                layer = nn.Linear(width, layer.out_features, bias=layer.bias is not None, device=device, dtype=dtype)
            width = layer.out_features
        elif isinstance(layer, nn.LayerNorm) or _is_norm2d(layer):
            if tuple(layer.normalized_shape) != (width,):
                fresh = type(layer)(width, eps=layer.eps)
                layer = fresh.to(device=device, dtype=dtype) if device is not None else fresh
        fitted.append(layer)
    return fitted, width


def set_submodule(root: nn.Module, path: str, module: nn.Module) -> None:
    """Put ``module`` at dotted ``path`` under ``root`` (works inside ``nn.Sequential`` too)."""
    parent_path, _, leaf = path.rpartition(".")
    parent = root.get_submodule(parent_path) if parent_path else root
    setattr(parent, leaf, module)
