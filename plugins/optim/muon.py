"""Muon: momentum orthogonalized by a Newton-Schulz iteration, with an AdamW fallback (Jordan et al., 2024).

Matrix-shaped parameters (conv kernels flattened to ``(out, in·k·k)``) take the Muon step; the
rest — biases, norms, depthwise kernels, position embeddings, extreme aspect ratios — take an
AdamW step (NAdamW with ``nesterov``), all from one optimizer, as timm's ``muon`` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from pimm.core.errors import OptionsError

from ._base import PimmOptimizer, check_betas, check_range

__all__ = ["Muon", "newton_schulz", "muon_suitable", "NS_COEFFICIENTS"]

#: Published Newton-Schulz coefficient schedules (a, b, c) per iteration; the last repeats.
NS_COEFFICIENTS: dict[str, list[tuple[float, float, float]]] = {
    # Keller Jordan, "Muon: An optimizer for hidden layers in neural networks" (2024)
    "original": [(3.4445, -4.7750, 2.0315)],
    # per-step optimized quintic schedule (You Jiacheng / leloykun, used by modded-nanogpt)
    "quintic": [(4.0848, -6.8946, 2.9270), (3.9505, -6.3029, 2.6377), (3.7418, -5.5913, 2.3037),
                (2.8769, -3.1427, 1.2046), (2.8366, -3.0525, 1.2012)],
    # Amsel et al., "The Polar Express" (2025), safety 1e-2
    "polar_express": [(8.237312490495555, -23.157747414558198, 16.680568411445915),
                      (4.082441999064835, -2.893047735332586, 0.5252849256975648),
                      (3.9263479922546582, -2.8547468034765298, 0.5318022422894988),
                      (3.2982187133085143, -2.424541981026706, 0.48632008358844075),
                      (2.2970369434552573, -1.63662558125903, 0.4002628455953627),
                      (1.8763805351440397, -1.2347896577722228, 0.35891887501668385),
                      (1.8564423485617974, -1.2132449880935525, 0.3568003487825883),
                      (1.8749994008682747, -1.2499988017229169, 0.3749994008546422)],
}
_ADJUST = ("original", "match_rms_adamw", "rms_to_rms", "rsqrt_in")
_DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}


def coefficients(value: str | Sequence[Any]) -> list[tuple[float, float, float]]:
    """A preset name, one (a, b, c) triple or a list of triples, as a list of float triples."""
    if isinstance(value, str):
        if value not in NS_COEFFICIENTS:
            raise OptionsError(f"unknown ns_coefficients preset {value!r}: choose one of {sorted(NS_COEFFICIENTS)} "
                               "or give (a, b, c) triples")
        return list(NS_COEFFICIENTS[value])
    items = list(value)
    if len(items) == 3 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        items = [items]
    out = []
    for item in items:
        triple = tuple(item) if isinstance(item, (list, tuple)) else ()
        if len(triple) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in triple):
            raise OptionsError(f"ns_coefficients entries must be (a, b, c) triples of numbers, got {item!r}")
        out.append((float(triple[0]), float(triple[1]), float(triple[2])))
    if not out:
        raise OptionsError("ns_coefficients is empty")
    return out


def newton_schulz(g: torch.Tensor, steps: int, coeffs: list[tuple[float, float, float]], eps: float = 1e-7,
                  safety_factor: float = 1.0, dtype: torch.dtype = torch.bfloat16,
                  scale_eps: bool = False, overwrite: bool = False) -> torch.Tensor:
    """Approximately orthogonalize ``g`` (…, m, n): ``X ← a·X + (b·A + c·A²)·X`` with ``A = X·Xᵀ``.

    X starts as ``g / max(safety·||g||_F, eps)`` (``scale_eps``: ``/ (safety·||g||_F + eps·sqrt(n/m))``)
    and works on the orientation with fewer rows; iteration ``i`` uses ``coeffs[i]`` (the last
    one repeats). Computed in ``dtype``; ``overwrite=True`` lets it start from ``g`` itself when
    ``g`` already has that dtype (the caller's scratch copy), saving one copy.
    """
    x = g if overwrite and g.dtype == dtype else g.to(dtype=dtype, copy=True)
    wide = x.shape[-2] <= x.shape[-1]
    if not wide:
        x = x.mT
    norm = torch.linalg.matrix_norm(x, keepdim=True).mul_(safety_factor)
    if scale_eps:  # x is this function's own copy (or the caller's, with overwrite): scale in place
        x.div_(norm.add_(eps * math.sqrt(g.shape[-1] / g.shape[-2])))
    else:
        x.div_(norm.clamp_(min=eps))
    for i in range(steps):
        a, b, c = coeffs[min(i, len(coeffs) - 1)]
        gram = x @ x.mT
        poly = (gram @ gram).mul_(c).add_(gram, alpha=b)  # b·A + c·A²
        x = (poly @ x).add_(x, alpha=a)
    return x if wide else x.mT


def muon_suitable(shape: Sequence[int], min_dim: int = 4, max_aspect: float = 128.0) -> bool:
    """Whether a parameter takes the Muon step: ≥ 2 non-unit dims, no unit dim among the first
    two (depthwise kernels, position embeddings), and as an ``(out, rest)`` matrix both sides ≥
    ``min_dim`` with an aspect ratio ≤ ``max_aspect`` (timm's routing rule)."""
    if len(shape) < 2 or sum(1 for n in shape if n > 1) < 2 or shape[0] == 1 or shape[1] == 1:
        return False
    rows, cols = shape[0], math.prod(shape[1:])
    return min(rows, cols) >= min_dim and max(rows, cols) / min(rows, cols) <= max_aspect


def _lr_scale(rows: int, cols: int, rule: str | None) -> float:
    if rule is None:
        return 1.0
    if rule == "original":
        return math.sqrt(max(1.0, rows / cols))
    if rule == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    if rule == "rms_to_rms":
        return math.sqrt(rows / cols)
    return cols ** -0.5  # rsqrt_in


class Muon(PimmOptimizer):
    """Muon with an AdamW fallback (and AdaMuon with ``algo='adamuon'``).

    Muon parameters: ``p *= 1 - lr·wd``; ``buf = lerp(buf, g, 1-momentum)``; ``u = buf`` (nesterov:
    ``lerp(g, buf, momentum)``); ``O = newton_schulz(u as (out, in·k·k))`` (``conv_mode='batched'``:
    one ``(out, in)`` matrix per kernel position, the step scaled by ``1/sqrt(k·k)`` with
    ``normalize_spatial``); ``p -= lr·scale·O`` with ``scale`` from ``adjust_lr_fn``
    ('match_rms_adamw': ``0.2·sqrt(max(out, in))``; 'original': ``sqrt(max(1, out/in))``;
    'rms_to_rms': ``sqrt(out/in)``; None: 1). AdaMuon adds ``v = β2·v + (1-β2)·O²`` and steps
    ``O/(sqrt(v/bc2) + eps)`` ('match_rms_adamw': ``O/(sqrt(v) + eps)`` normalized to unit
    Frobenius norm and scaled by ``0.2·sqrt(numel)``).
    Fallback parameters (see :func:`muon_suitable`; a group may force ``use_fallback=True`` or
    ``use_muon``): AdamW (NAdamW with ``nesterov``) with ``betas``, ``eps`` and
    ``lr·fallback_lr_scale``. ``ns_dtype`` (pimm's addition) is the iteration's dtype.

    Defaults: lr=0.02, weight_decay=0, momentum=0.95, nesterov=False, ns_steps=5,
    ns_coefficients='quintic', eps=1e-7, safety_factor=1.0, adjust_lr_fn='match_rms_adamw',
    conv_mode='flatten', normalize_spatial=True, fallback_lr_scale=1.0, betas=(0.9, 0.95),
    algo='muon', scale_eps=False, ns_dtype='bfloat16'.
    """

    supports_multi_tensor = False
    supports_complex = False
    state_keys = frozenset({"use_muon", "momentum_buffer", "step", "exp_avg", "exp_avg_sq"})

    def __init__(self, params: Any, lr: float = 0.02, weight_decay: float = 0.0, momentum: float = 0.95,
                 nesterov: bool = False, ns_steps: int = 5, ns_coefficients: str | Sequence[Any] = "quintic",
                 eps: float = 1e-7, safety_factor: float = 1.0, adjust_lr_fn: str | None = "match_rms_adamw",
                 conv_mode: str = "flatten", normalize_spatial: bool = True, fallback_lr_scale: float = 1.0,
                 betas: tuple[float, float] = (0.9, 0.95), algo: str = "muon", scale_eps: bool = False,
                 ns_dtype: str = "bfloat16") -> None:
        check_range("lr", lr, low_open=True)
        check_range("weight_decay", weight_decay)
        check_range("momentum", momentum, 0.0, 1.0)
        check_range("eps", eps)
        check_range("safety_factor", safety_factor, low_open=True)
        check_range("fallback_lr_scale", fallback_lr_scale)
        betas = check_betas(betas)
        coefficients(ns_coefficients)
        if ns_steps < 1:
            raise OptionsError(f"ns_steps must be >= 1, got {ns_steps}")
        for name, value, allowed in (("conv_mode", conv_mode, ("flatten", "batched")), ("algo", algo, ("muon", "adamuon")),
                                     ("ns_dtype", ns_dtype, tuple(_DTYPES))):
            if value not in allowed:
                raise OptionsError(f"invalid {name} {value!r}: choose one of {list(allowed)}")
        if adjust_lr_fn is not None and adjust_lr_fn not in _ADJUST:
            raise OptionsError(f"invalid adjust_lr_fn {adjust_lr_fn!r}: choose one of {list(_ADJUST)} or None")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps,
                        ns_coefficients=ns_coefficients, eps=eps, safety_factor=safety_factor,
                        adjust_lr_fn=adjust_lr_fn, conv_mode=conv_mode, normalize_spatial=normalize_spatial,
                        fallback_lr_scale=fallback_lr_scale, betas=betas, algo=algo, scale_eps=scale_eps,
                        ns_dtype=ns_dtype)
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        if group.get("use_fallback", False):
            use_muon = False
        elif "use_muon" in group:
            use_muon = bool(group["use_muon"])
        else:
            use_muon = muon_suitable(tuple(p.shape))
        state["use_muon"] = use_muon
        state["step"] = 0
        if use_muon:
            state["momentum_buffer"] = torch.zeros_like(p)
            if group["algo"] == "adamuon":
                state["exp_avg_sq"] = torch.zeros_like(p)
        else:
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        state["step"] += 1
        if state["use_muon"]:
            self._muon(group, p, grad, state)
        else:
            self._fallback(group, p, grad, state)

    @staticmethod
    def _fallback(group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor, state: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr = group["lr"] * group["fallback_lr_scale"]
        t = state["step"]
        p.mul_(1.0 - lr * group["weight_decay"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1.0 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        num = torch.lerp(m, grad, 1.0 - beta1) if group["nesterov"] else m
        denom = v.sqrt().div_(math.sqrt(1.0 - beta2**t)).add_(group["eps"])
        p.addcdiv_(num, denom, value=-lr / (1.0 - beta1**t))

    @staticmethod
    def _muon(group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor, state: dict[str, Any]) -> None:
        lr, momentum = group["lr"], group["momentum"]
        p.mul_(1.0 - lr * group["weight_decay"])
        buf = state["momentum_buffer"]
        buf.lerp_(grad, 1.0 - momentum)
        update = torch.lerp(grad, buf, momentum) if group["nesterov"] else buf
        shape = update.shape
        batched = group["conv_mode"] == "batched" and update.dim() >= 3
        if batched:  # (out, in, *k) -> (k_prod, out, in): one matrix per kernel position
            matrix = update.reshape(shape[0], shape[1], -1).permute(2, 0, 1)
        else:
            matrix = update.reshape(shape[0], -1)
        work = matrix.to(dtype=_DTYPES[group["ns_dtype"]], copy=True)
        del update, matrix  # a Nesterov temporary is freed before the iteration's own buffers exist
        ortho = newton_schulz(work, group["ns_steps"], coefficients(group["ns_coefficients"]), group["eps"],
                              group["safety_factor"], work.dtype, group["scale_eps"], overwrite=True)
        rows, cols = ortho.shape[-2], ortho.shape[-1]
        if batched:
            ortho = ortho.permute(1, 2, 0)
        ortho = ortho.reshape(shape).to(p.dtype)
        spatial = math.prod(shape[2:]) if batched and group["normalize_spatial"] else 1
        if group["algo"] == "muon":
            scale = _lr_scale(rows, cols, group["adjust_lr_fn"]) / math.sqrt(spatial)
            p.add_(ortho, alpha=-lr * scale)
            return
        beta2 = group["betas"][1]
        eps = group["eps"]
        v = state["exp_avg_sq"]
        v.mul_(beta2).addcmul_(ortho, ortho, value=1.0 - beta2)
        if group["adjust_lr_fn"] == "match_rms_adamw":  # RMS-aligned: the norm replaces the bias correction
            step = ortho / v.sqrt().add_(eps)
            step.div_(torch.linalg.vector_norm(step).add_(eps))
            scale = 0.2 * math.sqrt(ortho.numel())
        else:
            step = ortho / v.div(1.0 - beta2 ** state["step"]).sqrt_().add_(eps)
            scale = _lr_scale(rows, cols, group["adjust_lr_fn"]) if group["adjust_lr_fn"] else 1.0
        p.add_(step, alpha=-lr * scale / math.sqrt(spatial))
