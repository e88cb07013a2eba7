"""Gradient clipping by mode: the global norm, each value, or adaptive clipping (AGC) per unit.

AGC (Brock et al., 2021, "High-Performance Large-Scale Image Recognition Without Normalization")
limits each output unit's gradient norm to ``clip`` times that unit's weight norm (floored at
``eps`` so that zero-initialised weights can still move). A unit is a row of the weight: every
dimension but the first is reduced for tensors of two or more dimensions; a vector or scalar is
one unit.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

__all__ = ["clip_gradients", "adaptive_clip_grad_"]


def _unit_norms(t: torch.Tensor) -> torch.Tensor:
    if t.ndim <= 1:
        return torch.linalg.vector_norm(t)
    return torch.linalg.vector_norm(t, dim=tuple(range(1, t.ndim)), keepdim=True)


@torch.no_grad()
def adaptive_clip_grad_(params: Iterable[torch.Tensor], clip: float, eps: float = 1e-3) -> None:
    """Scale each unit's gradient down to at most ``clip * max(|w_unit|, eps)`` (in place)."""
    for p in params:
        if p.grad is None:
            continue
        grad = p.grad
        limit = _unit_norms(p.detach().float()).clamp_min(eps) * clip
        norms = _unit_norms(grad.float())
        factor = (limit / norms.clamp_min(1e-6)).clamp(max=1.0)
        grad.mul_(factor.to(grad.dtype))


def clip_gradients(params: list[torch.Tensor], value: float, mode: str) -> None:
    """Clip ``params``' gradients: ``norm`` (global L2 norm), ``value`` (each element) or ``agc``."""
    if mode == "value":
        torch.nn.utils.clip_grad_value_(params, value)
    elif mode == "agc":
        adaptive_clip_grad_(params, value)
    else:
        torch.nn.utils.clip_grad_norm_(params, value)
