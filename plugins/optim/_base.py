"""The shared machinery of pimm's own optimizers: argument checks, the step loop, path choice.

Every optimizer here has two implementations of its update: a per-tensor path (the reference,
and the fastest path on CPU, where running all of one tensor's operations back to back keeps it in
cache) and a multi-tensor path built on ``torch._foreach_*`` (the default on CUDA, where it saves
kernel launches). ``foreach=None`` picks per device; ``True``/``False`` force one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import Optimizer

from pimm.core.errors import OptionsError

__all__ = ["PimmOptimizer", "check_range", "check_betas", "use_multi_tensor", "to_float32", "copy_back"]


def check_range(name: str, value: float | None, low: float = 0.0, high: float = math.inf, *,
                low_open: bool = False, optional: bool = False) -> None:
    """Raise OptionsError unless ``low <= value <= high`` (``low < value`` when ``low_open``)."""
    if value is None:
        if optional:
            return
        raise OptionsError(f"{name} is required (got None)")
    if isinstance(value, torch.Tensor):
        value = float(value)
    bad = math.isnan(value) or value > high or (value <= low if low_open else value < low)
    if bad:
        sign = ">" if low_open else ">="
        raise OptionsError(f"invalid {name} {value!r}: it must be {sign} {low} and <= {high}")


def check_betas(betas: Iterable[float], count: int = 2) -> tuple[float, ...]:
    """Validate a tuple of ``count`` betas, each in [0, 1)."""
    values = tuple(float(b) for b in betas)
    if len(values) != count:
        raise OptionsError(f"betas must hold {count} values, got {values!r}")
    for i, beta in enumerate(values):
        check_range(f"betas[{i}]", beta, 0.0, 1.0)
        if beta >= 1.0:
            raise OptionsError(f"invalid betas[{i}] {beta!r}: it must be in [0, 1)")
    return values


def use_multi_tensor(flag: bool | None, params: list[torch.Tensor]) -> bool:
    """Whether to take the multi-tensor path: forced by ``flag``, else only when every param is on CUDA."""
    if flag is not None:
        return bool(flag)
    return all(p.device.type == "cuda" for p in params)


def to_float32(t: torch.Tensor) -> torch.Tensor:
    """``t`` itself when fp32/fp64, else an fp32 copy (low-precision params do their math in fp32)."""
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


def copy_back(target: torch.Tensor, source: torch.Tensor) -> None:
    """Write ``source`` into ``target`` when ``to_float32`` made a copy."""
    if source is not target:
        target.copy_(source)


class PimmOptimizer(Optimizer):
    """Base class: subclasses implement ``_init_state`` and ``_single`` (and optionally ``_multi``).

    ``_single(group, p, grad, state, ctx)`` updates one parameter; ``_multi(group, params, grads,
    states, ctx)`` updates a list of parameters sharing device and dtype. ``ctx`` is what
    ``_prepare()`` returns (e.g. Lamb's global gradient norm); ``_begin_group(group)`` runs once per
    group per step (e.g. to advance a per-group step counter).
    """

    supports_multi_tensor: bool = True

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        """Create the optimizer state of ``p`` (called on its first step)."""

    def _prepare(self) -> Any:
        """Compute what the whole step needs before the per-group updates (default: nothing)."""
        return None

    def _begin_group(self, group: dict[str, Any]) -> None:
        """Called once per group and step before its parameters are updated."""

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        raise NotImplementedError

    def _multi(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> None:
        for p, g, s in zip(params, grads, states):
            self._single(group, p, g, s, ctx)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        ctx = self._prepare()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            self._begin_group(group)
            states = []
            for p in params:
                state = self.state[p]
                if not state:
                    self._init_state(group, p, state)
                states.append(state)
            if self.supports_multi_tensor and use_multi_tensor(group.get("foreach"), params):
                buckets: dict[tuple[Any, ...], list[int]] = {}
                for i, p in enumerate(params):
                    buckets.setdefault((p.device, p.dtype), []).append(i)
                for idx in buckets.values():
                    self._multi(group, [params[i] for i in idx], [params[i].grad for i in idx],
                                [states[i] for i in idx], ctx)
            else:
                for p, state in zip(params, states):
                    self._single(group, p, p.grad, state, ctx)
        return loss
