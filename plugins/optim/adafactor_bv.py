"""Adafactor as big_vision trains ViTs: factored second moment, clipped, with low-precision momentum."""

from __future__ import annotations

from typing import Any

import torch

from pimm.core.errors import OptionsError

from ._base import PimmOptimizer, cautious_, check_range, decay_lr

__all__ = ["AdafactorBigVision"]

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def factor_dims(shape: tuple[int, ...], min_size: int) -> tuple[int, int] | None:
    """(column dim, row dim): the two largest dims (ties: the later one is larger), or None when
    the tensor has fewer than 2 dims or the second largest is below ``min_size``."""
    if len(shape) < 2:
        return None
    order = sorted(range(len(shape)), key=lambda i: (shape[i], i))
    second, largest = order[-2], order[-1]
    if shape[second] < min_size:
        return None
    return second, largest


def _dtype(value: str | torch.dtype) -> torch.dtype:
    if isinstance(value, torch.dtype):
        return value
    if value not in _DTYPES:
        raise OptionsError(f"invalid momentum_dtype {value!r}: choose one of {sorted(_DTYPES)}")
    return _DTYPES[value]


class AdafactorBigVision(PimmOptimizer):
    """Adafactor, big_vision variant ("Scaling Vision Transformers", Zhai et al., 2021).

    Rule (per parameter step ``t``): ``β2t = min(beta2_cap, 1 - max(t - decay_offset, 1)^-decay_rate)``;
    ``q = g² + eps`` (eps None: 1e-30, 1e-7 for fp16 gradients). Factored tensors (see
    :func:`factor_dims`) keep EMAs (weight 1-β2t) of ``q``'s mean over the row dim (``r``) and
    over the column dim (``c``): ``u = g·rsqrt(r/mean_col(r))·rsqrt(c)``; others keep ``v`` (EMA of
    ``q``) and ``u = g·rsqrt(v)``. ``clipping_threshold``: ``u /= max(1, rms(u)/threshold)``.
    With ``momentum``: ``m = lerp(m, u, 1-momentum)`` kept in ``momentum_dtype`` and ``u = m``
    (``caution`` masks it where it and ``g`` disagree in sign). Weight decay ``p *= 1 - lr·wd``
    (``unscaled_wd``: ``1 - wd``; ``corrected_weight_decay`` multiplies the factor by lr/peak_lr);
    ``p -= lr·u``.

    Defaults: lr=1.0, min_dim_size_to_factor=16, decay_rate=0.8, decay_offset=0, beta2_cap=0.999,
    momentum=0.9, momentum_dtype='bfloat16', eps=None, weight_decay=0, clipping_threshold=None.
    """

    supports_multi_tensor = False
    supports_complex = False
    state_keys = frozenset({"step", "exp_avg_sq_r", "exp_avg_sq_c", "exp_avg_sq", "exp_avg"})

    def __init__(self, params: Any, lr: float = 1.0, min_dim_size_to_factor: int = 16, decay_rate: float = 0.8,
                 decay_offset: int = 0, beta2_cap: float = 0.999, momentum: float | None = 0.9,
                 momentum_dtype: str | torch.dtype = "bfloat16", eps: float | None = None,
                 weight_decay: float = 0.0, clipping_threshold: float | None = None, unscaled_wd: bool = False,
                 caution: bool = False, corrected_weight_decay: bool = False) -> None:
        check_range("lr", lr, low_open=True)
        check_range("beta2_cap", beta2_cap, 0.0, 1.0)
        check_range("momentum", momentum, 0.0, 1.0, optional=True)
        check_range("eps", eps, optional=True)
        check_range("weight_decay", weight_decay)
        check_range("clipping_threshold", clipping_threshold, low_open=True, optional=True)
        if min_dim_size_to_factor < 1 or decay_offset < 0:
            raise OptionsError("min_dim_size_to_factor must be >= 1 and decay_offset >= 0")
        defaults = dict(lr=lr, min_dim_size_to_factor=min_dim_size_to_factor, decay_rate=decay_rate,
                        decay_offset=decay_offset, beta2_cap=beta2_cap, momentum=momentum,
                        momentum_dtype=_dtype(momentum_dtype), eps=eps, weight_decay=weight_decay,
                        clipping_threshold=clipping_threshold, unscaled_wd=unscaled_wd, caution=caution,
                        corrected_weight_decay=corrected_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        dims = factor_dims(tuple(p.shape), group["min_dim_size_to_factor"])
        if dims is not None:
            col, row = dims
            state["exp_avg_sq_r"] = p.new_zeros([1 if i == row else n for i, n in enumerate(p.shape)])
            state["exp_avg_sq_c"] = p.new_zeros([1 if i == col else n for i, n in enumerate(p.shape)])
        else:
            state["exp_avg_sq"] = torch.zeros_like(p)
        if group["momentum"] is not None:
            state["exp_avg"] = torch.zeros_like(p, dtype=_dtype(group["momentum_dtype"]))

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load, keeping the momentum in ``momentum_dtype`` (torch casts state to the param dtype)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state.get(p, {})
                if "exp_avg" in state:
                    state["exp_avg"] = state["exp_avg"].to(_dtype(group["momentum_dtype"]))

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        state["step"] += 1
        t = max(state["step"] - group["decay_offset"], 1)
        beta2 = min(group["beta2_cap"], 1.0 - t ** (-group["decay_rate"]))
        eps = group["eps"] if group["eps"] is not None else (1e-7 if grad.dtype == torch.float16 else 1e-30)
        q = grad.square().add_(eps)
        if "exp_avg_sq" in state:
            v = state["exp_avg_sq"]
            v.lerp_(q, 1.0 - beta2)
            update = v.rsqrt().mul_(grad)
        else:
            col, row = factor_dims(tuple(p.shape), group["min_dim_size_to_factor"])  # type: ignore[misc]
            r, c = state["exp_avg_sq_r"], state["exp_avg_sq_c"]
            r.lerp_(q.mean(dim=row, keepdim=True), 1.0 - beta2)
            c.lerp_(q.mean(dim=col, keepdim=True), 1.0 - beta2)
            update = (r / r.mean(dim=col, keepdim=True)).rsqrt_().mul(c.rsqrt()).mul_(grad)
        threshold = group["clipping_threshold"]
        if threshold is not None:
            rms = torch.linalg.vector_norm(update) / update.numel() ** 0.5
            update.div_((rms / threshold).clamp_(min=1.0))
        momentum = group["momentum"]
        if momentum is not None:
            m = state["exp_avg"]
            m.lerp_(update.to(m.dtype), 1.0 - momentum)
            update = m.to(grad.dtype, copy=True)
            if group["caution"]:
                cautious_(update, grad)
        lr, wd = group["lr"], group["weight_decay"]
        if wd != 0:
            if group["unscaled_wd"]:
                factor = lr / group["peak_lr"] if group["corrected_weight_decay"] else 1.0
            else:
                factor = decay_lr(group)
            p.mul_(1.0 - factor * wd)
        p.add_(update, alpha=-lr)
