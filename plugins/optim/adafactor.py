"""Adafactor: Adam-like steps with a factored (row x column) second moment (Shazeer & Stern, 2018)."""

from __future__ import annotations

import math
from typing import Any

import torch

from pimm.core.errors import OptionsError

from ._base import PimmOptimizer, cautious, check_range, copy_back, to_float32

__all__ = ["Adafactor"]


def _beta1(group: dict[str, Any]) -> float | None:
    """The group's first-moment decay (None: no first moment); pre-0.2 groups stored only 'beta1'."""
    betas = group.get("betas")
    if betas is not None:
        return float(betas[0])
    return group.get("beta1")


def _rms(t: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(t) / math.sqrt(t.numel())


def factored_dims(shape: torch.Size, min_size: int) -> tuple[int, int] | None:
    """The two dims whose second moment is factored, or None for a full second moment."""
    ndim = len(shape)
    if ndim > 2 and shape[0] > min_size and shape[1] > min_size:
        return 0, 1
    if ndim >= 2 and shape[-2] > min_size and shape[-1] > min_size:
        return ndim - 2, ndim - 1
    return None


class Adafactor(PimmOptimizer):
    """Adafactor.

    Rule (step ``t``): with ``lr=None`` the step size is relative:
    ``lr_t = min(1e-2 (warmup_init: 1e-6·t), 1/sqrt(t)) · max(eps_scale, RMS(p))`` (the RMS factor only
    with ``scale_parameter``), and it is written back to the group's ``lr`` as timm does.
    ``β2t = 1 - t^decay_rate``; ``q = g² + eps``. Tensors with ndim > 2 whose dims 0 and 1 exceed
    ``min_dim_size_to_factor`` factor over (0, 1); else ndim ≥ 2 tensors whose last two dims do
    factor over those; their row and column means of ``q`` are EMAs (weight 1-β2t) and
    ``û = g·rsqrt(r/mean(r))⊗rsqrt(c)``; other tensors keep ``v`` (EMA of ``q``) and
    ``û = g·rsqrt(v)``. ``û /= max(RMS(û)/clip_threshold, 1)``; ``û *= lr_t``; with ``betas``,
    ``m = lerp(m, û, 1-β1)`` and ``û = m``. Weight decay ``p -= wd·lr_t·p``; ``p -= û``.
    fp16/bf16 parameters do their math in fp32.

    Defaults: lr=None, eps=1e-30, eps_scale=1e-3, clip_threshold=1.0, decay_rate=-0.8, betas=None,
    weight_decay=0, scale_parameter=True, warmup_init=False, min_dim_size_to_factor=16.
    ``caution`` (with betas) masks ``m`` where it and ``g`` disagree in sign (factory 'cadafactor').
    """

    supports_multi_tensor = False
    supports_complex = False
    requires_lr = False  # lr=None selects the relative step size
    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq_row", "exp_avg_sq_col", "exp_avg_sq", "RMS"})

    def __init__(self, params: Any, lr: float | None = None, eps: float = 1e-30, eps_scale: float = 1e-3,
                 clip_threshold: float = 1.0, decay_rate: float = -0.8,
                 betas: tuple[float, float] | None = None, weight_decay: float = 0.0,
                 scale_parameter: bool = True, warmup_init: bool = False,
                 min_dim_size_to_factor: int = 16, caution: bool = False) -> None:
        check_range("lr", lr, low_open=True, optional=True)
        check_range("weight_decay", weight_decay)
        relative_step = lr is None
        if warmup_init and not relative_step:
            raise OptionsError("Adafactor's warmup_init needs the relative step size: leave lr=None")
        if betas is not None:
            betas = (float(betas[0]), float(betas[1]))
        defaults = dict(lr=lr, eps=eps, eps_scale=eps_scale, clip_threshold=clip_threshold,
                        decay_rate=decay_rate, betas=betas, weight_decay=weight_decay,
                        scale_parameter=scale_parameter, relative_step=relative_step,
                        warmup_init=warmup_init, min_dim_size_to_factor=min_dim_size_to_factor,
                        caution=caution)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        ref = to_float32(p)
        state["step"] = 0
        if _beta1(group) is not None:
            state["exp_avg"] = torch.zeros_like(ref)
        dims = factored_dims(p.shape, group["min_dim_size_to_factor"])
        if dims is not None:
            col, row = dims
            shape = list(p.shape)
            state["exp_avg_sq_row"] = ref.new_zeros(shape[:row] + shape[row + 1:])
            state["exp_avg_sq_col"] = ref.new_zeros(shape[:col] + shape[col + 1:])
        else:
            state["exp_avg_sq"] = torch.zeros_like(ref)
        state["RMS"] = 0.0

    def _lr(self, group: dict[str, Any], state: dict[str, Any]) -> float:
        if group["relative_step"]:
            t = state["step"]
            lr_t = min(1e-6 * t if group["warmup_init"] else 1e-2, 1.0 / math.sqrt(t))
            scale = max(group["eps_scale"], float(state["RMS"])) if group["scale_parameter"] else 1.0
            group["lr"] = lr_t * scale
        return group["lr"]

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        p32, grad = to_float32(p), to_float32(grad)
        state["step"] += 1
        t = state["step"]
        state["RMS"] = _rms(p32)
        lr_t = self._lr(group, state)
        weight = 1.0 - (1.0 - math.pow(t, group["decay_rate"]))  # 1 - β2t
        q = grad.square().add_(group["eps"])
        dims = factored_dims(p.shape, group["min_dim_size_to_factor"])
        if dims is not None:
            col, row = dims
            r, c = state["exp_avg_sq_row"], state["exp_avg_sq_col"]
            r.lerp_(q.mean(dim=row), weight)
            c.lerp_(q.mean(dim=col), weight)
            r_factor = (r / r.mean(dim=col, keepdim=True)).rsqrt_().unsqueeze(row)
            c_factor = c.unsqueeze(col).rsqrt()
            update = torch.mul(r_factor, c_factor).mul_(grad)
        else:
            v = state["exp_avg_sq"]
            v.lerp_(q, weight)
            update = v.rsqrt().mul_(grad)
        update.div_((_rms(update) / group["clip_threshold"]).clamp_(min=1.0))
        update.mul_(lr_t)
        beta1 = _beta1(group)
        if beta1 is not None:
            m = state["exp_avg"]
            m.lerp_(update, 1.0 - beta1)
            update = cautious(m, grad) if group.get("caution") else m
        if group["weight_decay"] != 0:
            p32.mul_(1.0 - group["weight_decay"] * lr_t)
        p32.sub_(update)
        copy_back(p, p32)
