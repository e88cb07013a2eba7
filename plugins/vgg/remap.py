"""Key remap from torchvision VGG checkpoints to pimm's (= timm's) VGG layout."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["remap_torchvision_vgg"]

_RENAMES = (("classifier.0.", "pre_logits.fc1."), ("classifier.3.", "pre_logits.fc2."), ("classifier.6.", "head.fc."))


def remap_torchvision_vgg(state_dict: dict[str, torch.Tensor], model: Any = None) -> dict[str, torch.Tensor]:
    """Rename torchvision's ``classifier.{0,3,6}`` to ``pre_logits.fc1/fc2`` and ``head.fc``.

    The two hidden Linear weights become the equivalent 7x7 and 1x1 conv kernels. Keys that are
    already in pimm's layout pass through unchanged, so the function is safe on any VGG checkpoint.
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        new_key = key
        for old, new in _RENAMES:
            if key.startswith(old):
                new_key = new + key[len(old):]
                break
        if key == "classifier.0.weight" and value.dim() == 2:
            value = value.reshape(value.shape[0], -1, 7, 7)
        elif key == "classifier.3.weight" and value.dim() == 2:
            value = value.reshape(value.shape[0], -1, 1, 1)
        out[new_key] = value
    return out
