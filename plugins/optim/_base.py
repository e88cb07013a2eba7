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

__all__ = ["PimmOptimizer", "check_range", "check_betas", "use_multi_tensor", "to_float32", "copy_back",
           "cautious", "cautious_", "decay_lr", "scratch"]


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


def momentum_(buf: torch.Tensor, grad: torch.Tensor, momentum: float, dampening: float) -> torch.Tensor:
    """``buf = momentum·buf + (1-dampening)·grad`` in place; one pass over ``buf`` when dampening is 0."""
    if dampening == 0:
        return torch.add(grad, buf, alpha=momentum, out=buf)
    return buf.mul_(momentum).add_(grad, alpha=1.0 - dampening)


def cautious(update: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``update`` with the entries whose sign disagrees with ``grad`` zeroed (a new tensor).

    Cautious optimizers (Liang et al., 2024): the kept entries are scaled up by the inverse of the
    kept fraction (the fraction floored at 1e-3), so the update keeps its overall size.
    """
    keep = (update * grad > 0).to(update.dtype)
    keep.div_(keep.mean().clamp_(min=1e-3))
    return update * keep


def cautious_(update: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """In-place :func:`cautious` (``update`` must be a temporary, never optimizer state)."""
    keep = (update * grad > 0).to(update.dtype)
    keep.div_(keep.mean().clamp_(min=1e-3))
    return update.mul_(keep)


def decay_lr(group: dict[str, Any]) -> float:
    """The learning rate that scales decoupled weight decay: ``lr``, or ``lr²/peak_lr`` when the
    group asks for ``corrected_weight_decay`` (Defazio, 2025: decay follows the schedule's ratio)."""
    lr = group["lr"]
    if group.get("corrected_weight_decay"):
        return lr * lr / group["peak_lr"]
    return lr


def scratch(owner: Optimizer, like: torch.Tensor, slot: int = 0) -> torch.Tensor:
    """A reusable work tensor shaped like ``like`` (contents undefined), kept on ``owner``.

    On CPU a fresh tensor the size of a large weight costs page faults on every step (the
    allocator returns big blocks to the system); the per-tensor paths therefore reuse one flat
    buffer per slot, device and dtype, as large as the largest parameter seen. It is not
    optimizer state: torch's ``Optimizer.__getstate__`` and ``state_dict`` leave it out.
    """
    buffers = owner.__dict__.setdefault("_scratch_buffers", {})
    key = (slot, like.device, like.dtype)
    buf = buffers.get(key)
    if buf is None or buf.numel() < like.numel():
        buf = buffers[key] = torch.empty(like.numel(), device=like.device, dtype=like.dtype)
    return buf[: like.numel()].view(like.shape)


class PimmOptimizer(Optimizer):
    """Base class: subclasses implement ``_init_state`` and ``_single`` (and optionally ``_multi``).

    ``_single(group, p, grad, state, ctx)`` updates one parameter; ``_multi(group, params, grads,
    states, ctx)`` updates a list of parameters sharing device and dtype. ``ctx`` is what
    ``_prepare()`` returns (e.g. Lamb's global gradient norm); ``_begin_group(group)`` runs once per
    group per step (e.g. to advance a per-group step counter).
    """

    supports_multi_tensor: bool = True
    #: Complex parameters are stepped through their real views (``torch.view_as_real``), as torch's
    #: own optimizers do; a rule that is not element-wise (norms over rows, factored moments) sets
    #: this to False and refuses complex parameters.
    supports_complex: bool = True
    #: Whether every parameter group needs a learning rate (False where lr=None has a meaning).
    requires_lr: bool = True
    #: Every key a parameter's state may hold (None: not checked when loading a state_dict).
    state_keys: frozenset[str] | None = None

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        if "corrected_weight_decay" in defaults and "peak_lr" not in defaults:
            # the constructor's lr is the schedule's peak; groups without a top-level lr use their own
            defaults["peak_lr"] = None if defaults.get("lr") is None else float(defaults["lr"])
        super().__init__(params, defaults)

    def _scratch(self, like: torch.Tensor, slot: int = 0) -> torch.Tensor:
        """A reusable work tensor shaped like ``like`` (contents undefined), for the per-tensor path
        (see :func:`scratch`)."""
        return scratch(self, like, slot)

    def _constant(self, value: float, like: torch.Tensor) -> torch.Tensor:
        """A cached 0-dim tensor holding ``value`` on ``like``'s device and dtype (an op's tensor input
        that broadcasts, e.g. ``torch.addcmul(c, x, x)`` = ``c + x²`` in one pass)."""
        cache = self.__dict__.setdefault("_constants", {})
        key = (value, like.device, like.dtype)
        found = cache.get(key)
        if found is None:
            found = cache[key] = torch.tensor(value, device=like.device, dtype=like.dtype)
        return found

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_scratch_buffers", None)
        state.pop("_constants", None)
        return state

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (torch's rule: missing settings come from the defaults), then check it."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        index = len(self.param_groups) - 1
        if self.requires_lr:
            if group.get("lr") is None:
                raise OptionsError(
                    f"{type(self).__name__} needs a learning rate: pass lr=... or give parameter group "
                    f"{index} an 'lr'")
            check_range(f"lr of parameter group {index}", group["lr"], low_open=True)
        if "peak_lr" in group and group["peak_lr"] is None and group.get("lr") is not None:
            group["peak_lr"] = float(group["lr"])
        if group.get("corrected_weight_decay") and not group.get("peak_lr"):
            raise OptionsError("corrected_weight_decay needs a positive learning rate (the schedule's peak)")
        if not self.supports_complex:
            for p in group["params"]:
                if p.is_complex():
                    raise OptionsError(
                        f"{type(self).__name__} does not support complex parameters (got one of shape "
                        f"{tuple(p.shape)}): its rule is not element-wise. Optimize torch.view_as_real(p) "
                        "as a real parameter instead, or use an element-wise optimizer such as 'adamw'")

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state_dict, refusing one saved by a different optimizer with a clear error."""
        from pimm.core.optim.state_check import check_state_dict

        state_dict = check_state_dict(self, state_dict, self.state_keys)
        self._check_required_state(state_dict)
        super().load_state_dict(state_dict)

    def _check_required_state(self, state_dict: dict[str, Any]) -> None:
        """Every saved (non-empty) parameter state holds what ``_init_state`` would create for it."""
        saved_state = state_dict["state"]
        for saved_group, own in zip(state_dict["param_groups"], self.param_groups):
            group = {**own, **{k: v for k, v in saved_group.items() if k != "params"}}
            for param_id, p in zip(saved_group["params"], own["params"]):
                saved = saved_state.get(param_id)
                if not saved:
                    continue
                shape_only = torch.empty_like(torch.view_as_real(p) if p.is_complex() else p, device="meta")
                expected: dict[str, Any] = {}
                self._init_state(group, shape_only, expected)
                missing = sorted(set(expected) - set(saved))
                if missing:
                    raise OptionsError(
                        f"this state_dict was saved by a different optimizer: the state of parameter {param_id} "
                        f"lacks {missing}, which {type(self).__name__} keeps. Load it into the optimizer that "
                        "saved it, or start this optimizer fresh")

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

    def _fused(self, group: dict[str, Any], params: list[torch.Tensor], grads: list[torch.Tensor],
               states: list[dict[str, Any]], ctx: Any) -> bool:
        """Step the whole group with one of torch's fused kernels; return False to decline.

        Called first when the group leaves the path to pimm (``foreach`` is None). A subclass
        whose rule some fused kernel computes exactly overrides this (e.g. SGDW: decoupled decay,
        then torch's fused SGD step); the default declines.
        """
        return False

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
                    raise OptionsError(f"{type(self).__name__} does not support sparse gradients "
                                       "(use torch.optim.SparseAdam for sparse embeddings)")
            grads = [p.grad for p in params]
            if any(p.is_complex() for p in params):  # step the real views (state is created on them)
                grads = [torch.view_as_real(g) if g.is_complex() else g for g in grads]
                keys = params
                params = [torch.view_as_real(p) if p.is_complex() else p for p in params]
            else:
                keys = params
            self._begin_group(group)
            states = []
            for key, p in zip(keys, params):
                state = self.state[key]
                if not state:
                    self._init_state(group, p, state)
                states.append(state)
            if group.get("foreach") is None and self._fused(group, params, grads, states, ctx):
                continue
            if self.supports_multi_tensor and use_multi_tensor(group.get("foreach"), params):
                buckets: dict[tuple[Any, ...], list[int]] = {}
                for i, p in enumerate(params):
                    buckets.setdefault((p.device, p.dtype), []).append(i)
                for idx in buckets.values():
                    self._multi(group, [params[i] for i in idx], [grads[i] for i in idx],
                                [states[i] for i in idx], ctx)
            else:
                for p, g, state in zip(params, grads, states):
                    self._single(group, p, g, state, ctx)
        return loss
