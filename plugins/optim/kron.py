"""PSGD Kron: SGD with momentum preconditioned by a learned Kronecker-factored matrix (Li, 2015-2024).

Each parameter of shape (d1, ..., dk) keeps one factor per dim: an upper-triangular ``Q_i``
(d_i × d_i) or, for dims that are 1, larger than ``max_size_triangular`` or chosen by
``memory_save_mode``, a diagonal (a vector). The preconditioner is ``P = ⊗ Q_iᵀQ_i``. It is fitted
on random probes with a relative (Lie-group) gradient step, with a probability that starts at 1
and anneals, and applied to the bias-corrected momentum.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import torch

from pimm.core.errors import OptionsError

from ._base import PimmOptimizer, check_range, decay_lr

__all__ = ["Kron", "update_probability"]

_TINY = torch.finfo(torch.bfloat16).tiny
_MODES = (None, "one_diag", "smart_one_diag", "all_diag")


def update_probability(step: int, max_prob: float = 1.0, min_prob: float = 0.03, decay: float = 0.001,
                       flat_start: float = 500) -> float:
    """The default preconditioner-update probability: ``max_prob`` for ``flat_start`` steps, then
    ``max_prob·exp(-decay·(step - flat_start))`` down to ``min_prob``."""
    prob = max_prob * math.exp(-decay * (step - flat_start))
    return min(max(prob, min_prob), max_prob)


def _mode_product(t: torch.Tensor, m: torch.Tensor, dim: int, transpose: bool = False) -> torch.Tensor:
    """Multiply ``t`` along ``dim`` by matrix ``m`` (``out[..i..] = Σ_j m[i, j]·t[..j..]``; with
    ``transpose``, ``m[j, i]``) or, for a vector ``m``, scale that dim element-wise."""
    if m.dim() == 1:
        shape = [1] * t.dim()
        shape[dim] = -1
        return t * m.view(shape)
    moved = t.movedim(dim, -1)
    out = moved @ (m if transpose else m.T)
    return out.movedim(-1, dim)


def _gram(t: torch.Tensor, dim: int, diagonal: bool) -> torch.Tensor:
    """``Σ_{other dims} t[..i..]·t[..j..]`` as a matrix (i, j), or its diagonal."""
    moved = t.movedim(dim, 0).reshape(t.shape[dim], -1)
    if diagonal:
        return moved.square().sum(1)
    return moved @ moved.T


def _spectral_lower_bound(a: torch.Tensor) -> torch.Tensor:
    """A cheap lower bound of the spectral norm of ``a``: one power-iteration step started from
    its heaviest row or column (0 for a zero matrix)."""
    scale = a.abs().max()
    if scale == 0:
        return scale
    b = a / scale
    col_sums = b.square().sum(0)
    row_sums = b.square().sum(1)
    if col_sums.max() > row_sums.max():
        v = b[:, int(col_sums.argmax())] @ b
        return scale * torch.linalg.vector_norm((v / torch.linalg.vector_norm(v)) @ b.T)
    v = b @ b[int(row_sums.argmax())]
    return scale * torch.linalg.vector_norm(b.T @ (v / torch.linalg.vector_norm(v)))


class Kron(PimmOptimizer):
    """PSGD Kron.

    Per step (per parameter, step ``t``): ``m = β·m + (1-β)·g`` and ``m̂ = m/(1-β^t)``. With
    probability ``preconditioner_update_probability`` (default: :func:`update_probability`; the
    update happens when a counter reaches ``1/prob``), with a random normal probe ``V``:
    ``A = m̂ ×_i Q_i`` (mode products; ``g`` when ``momentum_into_precond_update=False``),
    ``B = V ×_i Q_i⁻ᵀ``; for each factor ``T1 = gram_i(A)``, ``T2 = gram_i(B)``, and
    ``Q_i -= precond_lr·triu(T1 - T2)/(‖T1 + T2‖_lb + tiny)·Q_i`` (diagonal factors:
    ``Q_i -= precond_lr·(T1 - T2)·Q_i/(max|T1 + T2| + tiny)``); before it, with probability 0.01 the
    factors of a matrix are rebalanced to equal max-abs norms. Step: ``u = m̂ ×_i Q_iᵀQ_i``,
    ``u *= min(1, 1.1/(rms(u) + 1e-8))``; weight decay coupled (``u += wd·p``) or with
    ``decoupled_decay`` ``p *= 1 - lr·wd`` (``lr²/peak_lr`` with ``corrected_weight_decay``;
    ``stochastic_weight_decay`` draws ``wd·U(0, 2)``); ``p -= lr·u``.

    Defaults: lr=1e-3, momentum=0.9, weight_decay=0, max_size_triangular=2048, min_ndim_triangular=2,
    memory_save_mode=None, momentum_into_precond_update=True, precond_lr=0.1, precond_init_scale=1.0.
    The Python RNG of the rebalancing draws is part of ``state_dict``; ``deterministic=True`` also
    draws the probes from it, so a resumed run repeats the same steps.
    """

    supports_multi_tensor = False
    supports_complex = False
    state_keys = frozenset({"step", "update_counter", "momentum_buffer", "Q"})

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0,
                 preconditioner_update_probability: float | Callable[[int], float] | None = None,
                 max_size_triangular: int = 2048, min_ndim_triangular: int = 2, memory_save_mode: str | None = None,
                 momentum_into_precond_update: bool = True, precond_lr: float = 0.1, precond_init_scale: float = 1.0,
                 mu_dtype: torch.dtype | str | None = None, precond_dtype: torch.dtype | str | None = None,
                 decoupled_decay: bool = False, corrected_weight_decay: bool = False, flatten: bool = False,
                 flatten_start_dim: int = 2, flatten_end_dim: int = -1, stochastic_weight_decay: bool = False,
                 deterministic: bool = False) -> None:
        check_range("lr", lr, low_open=True)
        check_range("momentum", momentum, 0.0, 1.0)
        if momentum >= 1.0:
            raise OptionsError(f"invalid momentum {momentum}: it must be in [0, 1)")
        check_range("weight_decay", weight_decay)
        check_range("precond_lr", precond_lr, low_open=True)
        check_range("precond_init_scale", precond_init_scale, low_open=True)
        if isinstance(preconditioner_update_probability, (int, float)):
            check_range("preconditioner_update_probability", preconditioner_update_probability, 0.0, 1.0,
                        low_open=True)
        if memory_save_mode not in _MODES:
            raise OptionsError(f"invalid memory_save_mode {memory_save_mode!r}: choose one of {list(_MODES)}")
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                        preconditioner_update_probability=preconditioner_update_probability,
                        max_size_triangular=max_size_triangular, min_ndim_triangular=min_ndim_triangular,
                        memory_save_mode=memory_save_mode, momentum_into_precond_update=momentum_into_precond_update,
                        precond_lr=precond_lr, precond_init_scale=precond_init_scale, mu_dtype=_dtype(mu_dtype),
                        precond_dtype=_dtype(precond_dtype), decoupled_decay=decoupled_decay,
                        corrected_weight_decay=corrected_weight_decay, flatten=flatten,
                        flatten_start_dim=flatten_start_dim, flatten_end_dim=flatten_end_dim,
                        stochastic_weight_decay=stochastic_weight_decay)
        super().__init__(params, defaults)
        self.rng = random.Random(1337)
        self.deterministic = deterministic

    def state_dict(self) -> dict[str, Any]:
        """The usual state plus the Python RNG state of the rebalancing (and deterministic probe) draws."""
        state = super().state_dict()
        state["rng_state"] = self.rng.getstate()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load, restoring the RNG state and the factor/momentum dtypes the groups ask for."""
        state_dict = dict(state_dict)
        rng_state = state_dict.pop("rng_state", None)
        super().load_state_dict(state_dict)
        if rng_state is not None:
            self.rng.setstate(_as_rng_state(rng_state))
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state.get(p)
                if not state:
                    continue
                if group["mu_dtype"] is not None:
                    state["momentum_buffer"] = state["momentum_buffer"].to(group["mu_dtype"])
                if group["precond_dtype"] is not None:
                    state["Q"] = [q.to(group["precond_dtype"]) for q in state["Q"]]

    def _shaped(self, group: dict[str, Any], t: torch.Tensor) -> torch.Tensor:
        if not group["flatten"] or t.dim() <= group["flatten_start_dim"]:
            return t
        end = group["flatten_end_dim"] if group["flatten_end_dim"] >= 0 else t.dim() + group["flatten_end_dim"]
        end = min(end, t.dim() - 1)
        return t if group["flatten_start_dim"] > end else t.flatten(group["flatten_start_dim"], end)

    def _diagonal_dims(self, group: dict[str, Any], shape: tuple[int, ...]) -> list[bool]:
        mode = group["memory_save_mode"]
        diag = [False] * len(shape)
        if mode == "all_diag":
            diag = [True] * len(shape)
        elif mode in ("one_diag", "smart_one_diag") and shape:
            largest = max(range(len(shape)), key=lambda i: (shape[i], i))
            ordered = sorted(shape)
            if mode == "one_diag" or (len(shape) >= 2 and ordered[-1] > ordered[-2]):
                diag[largest] = True
        return [d or n == 1 or n > group["max_size_triangular"] or len(shape) < group["min_ndim_triangular"]
                for d, n in zip(diag, shape)]

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        g = self._shaped(group, p)
        dtype = group["precond_dtype"] or p.dtype
        state["step"] = 0
        state["update_counter"] = 0
        state["momentum_buffer"] = torch.zeros(g.shape, dtype=group["mu_dtype"] or p.dtype, device=p.device)
        if g.dim() == 0:
            state["Q"] = [torch.full((), group["precond_init_scale"], dtype=dtype, device=p.device)]
            return
        scale = group["precond_init_scale"] ** (1.0 / g.dim())
        state["Q"] = [scale * (torch.ones(n, dtype=dtype, device=p.device) if diag
                               else torch.eye(n, dtype=dtype, device=p.device))
                      for n, diag in zip(g.shape, self._diagonal_dims(group, tuple(g.shape)))]

    def _probe(self, like: torch.Tensor) -> torch.Tensor:
        gen = None
        if self.deterministic:
            gen = torch.Generator(device=like.device)
            gen.manual_seed(self.rng.randint(0, 2**31))
        return torch.randn(like.shape, generator=gen, dtype=like.dtype, device=like.device)

    def _fit(self, group: dict[str, Any], qs: list[torch.Tensor], g: torch.Tensor) -> None:
        """One relative-gradient step of every factor on a random probe."""
        if g.dim() == 0:
            q = qs[0]
            a, b = q * g, self._probe(g) / q
            t1, t2 = a * a, b * b
            q.sub_(group["precond_lr"] * (t1 - t2) * q / ((t1 + t2).abs() + _TINY))
            return
        a = g
        b = self._probe(g)
        for i, q in enumerate(qs):
            a = _mode_product(a, q, i)
            if q.dim() == 1:
                b = _mode_product(b, 1.0 / q, i)
            else:  # B ×_i Q⁻ᵀ: solve along dim i with the triangular factor, in fp32
                moved = b.movedim(i, -1)
                flat = moved.reshape(-1, moved.shape[-1]).float()
                solved = torch.linalg.solve_triangular(q.float(), flat, upper=True, left=False)
                b = solved.reshape(moved.shape).to(b.dtype).movedim(-1, i)
        for i, q in enumerate(qs):
            diagonal = q.dim() == 1
            t1, t2 = _gram(a, i, diagonal), _gram(b, i, diagonal)
            step = (t1 - t2) * group["precond_lr"]
            if diagonal:
                q.sub_(step * q / ((t1 + t2).abs().max() + _TINY))
            else:
                q.sub_((torch.triu(step) / (_spectral_lower_bound(t1 + t2) + _TINY)) @ q)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        g = self._shaped(group, grad)
        prob = group["preconditioner_update_probability"]
        prob = update_probability(state["step"]) if prob is None else prob(state["step"]) if callable(prob) else prob
        state["update_counter"] += 1
        refit = state["update_counter"] >= 1.0 / prob
        if refit:
            state["update_counter"] = 0
        state["step"] += 1
        beta = group["momentum"]
        buf = state["momentum_buffer"]
        buf.mul_(beta).add_(g, alpha=1.0 - beta)
        qs = state["Q"]
        mhat = (buf / (1.0 - beta ** state["step"])).to(qs[0].dtype)
        if self.rng.random() < 0.01 and refit and g.dim() > 1:
            norms = [float(q.abs().max()) for q in qs]
            mean = math.prod(norms) ** (1.0 / len(norms))
            for q, n in zip(qs, norms):
                q.mul_(mean / n)
        if refit:
            probe_source = mhat if group["momentum_into_precond_update"] else g.to(mhat.dtype)
            self._fit(group, qs, probe_source)
        update = mhat
        if g.dim() == 0:
            update = qs[0] * qs[0] * mhat
        else:
            for i, q in enumerate(qs):  # u = m̂ ×_i QᵢᵀQᵢ
                update = _mode_product(_mode_product(update, q, i), q, i, transpose=True) if q.dim() == 2 \
                    else _mode_product(update, q * q, i)
        update = update.to(p.dtype)
        update.mul_(torch.clamp(1.1 / (update.square().mean().sqrt() + 1e-8), max=1.0))
        update = update.reshape(p.shape)
        wd = group["weight_decay"]
        if wd != 0:
            if group["stochastic_weight_decay"]:
                wd = 2.0 * self.rng.random() * wd
            if group["decoupled_decay"]:
                p.mul_(1.0 - decay_lr(group) * wd)
            else:
                update.add_(p, alpha=wd)
        p.add_(update, alpha=-group["lr"])


def _dtype(value: torch.dtype | str | None) -> torch.dtype | None:
    if value is None or isinstance(value, torch.dtype):
        return value
    names = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "float64": torch.float64}
    if value not in names:
        raise OptionsError(f"invalid dtype {value!r}: choose one of {sorted(names)}")
    return names[value]


def _as_rng_state(state: Any) -> tuple:
    """random.Random.setstate wants tuples; a state that went through a checkpoint may hold lists."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
