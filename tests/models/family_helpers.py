"""Shared helpers for the model-family tests (ResNet, VGG, pools, toolchain).

A module of its own (not conftest.py): test files import it by a name no other test directory uses,
so any selection of test directories collects.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib

import torch


def deterministic_fill(model: torch.nn.Module) -> torch.nn.Module:
    """Fill every state_dict tensor with values fixed by its key and shape (not by build order).

    The same fill applied to timm's model produced the reference outputs recorded in the tests,
    so equal outputs mean equal architectures, not just equal shapes.
    """
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
            noise = torch.randn(tensor.shape, generator=gen)
            if key.endswith("running_var"):
                values = 1.0 + 0.2 * noise.abs()
            elif key.endswith("running_mean") or key.endswith("bias"):
                values = 0.1 * noise
            elif tensor.dim() == 1:  # norm scales
                values = 1.0 + 0.1 * noise
            else:
                values = noise * math.sqrt(1.0 / tensor[0].numel())
            tensor.copy_(values.to(tensor.dtype))
    return model


def filled(name: str, **options) -> torch.nn.Module:
    """Model ``name`` built on the meta device (no init cost), materialised and deterministically filled."""
    from pimm import core

    with torch.device("meta"):
        model = core.create("model", name, **options)
    model = model.to_empty(device="cpu")
    for module in model.modules():
        if hasattr(module, "init_non_persistent_buffers"):
            module.init_non_persistent_buffers()
    return deterministic_fill(model).eval()


def fixed_input(*shape: int) -> torch.Tensor:
    """A deterministic input tensor (seeded generator, independent of the global RNG)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(1234))


def keys_digest(model: torch.nn.Module) -> str:
    """Short sha256 of the ordered (key, shape) list of a state_dict."""
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:16]
