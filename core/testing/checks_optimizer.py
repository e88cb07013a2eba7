"""Conformance checks for optimizers: the contract every registered optimizer must keep.

They run for third-party optimizers too, so they use only the optimizer interface: construction
with ``component.create(params, lr=...)``, ``step``, ``zero_grad``, ``state_dict``. Each uses tiny
tensors. Second-order optimizers (spec ``second_order``) are driven with
``backward(create_graph=True)``.
"""

from __future__ import annotations

import copy
from typing import Any

from .kit import ComponentRef, check, skip

__all__: list[str] = []

_LR = 1e-2


def _options(component: ComponentRef, lr: float = _LR) -> dict[str, Any]:
    fields = component.spec.options.model_fields
    return {"lr": lr} if "lr" in fields else {}


def _problem(seed: int = 0, noncontiguous: bool = False) -> tuple[Any, Any, Any]:
    """A small least-squares problem: weight (3x5), bias (3), fixed input and target."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    if noncontiguous:  # a transposed view: same values layout, non-contiguous strides
        weight = torch.randn(5, 3, generator=gen).t().requires_grad_(True)
    else:
        weight = torch.randn(3, 5, generator=gen).requires_grad_(True)
    bias = torch.randn(3, generator=gen).requires_grad_(True)
    x = torch.randn(8, 5, generator=gen)
    y = torch.randn(8, 3, generator=gen)
    return weight, bias, (x, y)


def _loss(weight: Any, bias: Any, data: tuple[Any, Any]) -> Any:
    x, y = data
    return ((x @ weight.t() + bias - y) ** 2).mean()


def _value(weight: Any, bias: Any, data: tuple[Any, Any]) -> float:
    return float(_loss(weight, bias, data).detach())


def _backward(component: ComponentRef, loss: Any) -> None:
    import warnings

    second_order = bool(getattr(component.spec, "second_order", False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # create_graph's reference-cycle notice
        loss.backward(create_graph=second_order)


def _run(component: ComponentRef, optimizer: Any, weight: Any, bias: Any, data: Any, steps: int) -> None:
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        _backward(component, _loss(weight, bias, data))
        optimizer.step()


@check("optimizer")
def check_lowers_loss(component: ComponentRef) -> None:
    """200 steps on a small least-squares problem end below the starting loss."""
    weight, bias, data = _problem()
    optimizer = component.create([weight, bias], **_options(component))
    start = _value(weight, bias, data)
    _run(component, optimizer, weight, bias, data, 200)
    end = _value(weight, bias, data)
    if not (end < start):
        raise AssertionError(f"loss did not decrease: {start:.5f} -> {end:.5f}")


@check("optimizer")
def check_noncontiguous_params(component: ComponentRef) -> None:
    """A non-contiguous parameter trains like a contiguous one (loss decreases, shape kept)."""
    weight, bias, data = _problem(noncontiguous=True)
    if not (not weight.is_contiguous()):
        raise AssertionError('check failed: not weight.is_contiguous()')
    optimizer = component.create([weight, bias], **_options(component))
    start = _value(weight, bias, data)
    _run(component, optimizer, weight, bias, data, 200)
    if not (weight.shape == (3, 5)):
        raise AssertionError('check failed: weight.shape == (3, 5)')
    if not (_value(weight, bias, data) < start):
        raise AssertionError('check failed: _value(weight, bias, data) < start')


@check("optimizer")
def check_state_dict_round_trip(component: ComponentRef) -> None:
    """Save after 20 steps, load into a fresh optimizer: the next 20 steps match bit for bit.

    Each compared step runs under the same torch seed, so optimizers that draw random probes from
    torch's global generator (PSGD Kron) are compared on equal draws.
    """
    import torch

    weight, bias, data = _problem()
    optimizer = component.create([weight, bias], **_options(component))
    _run(component, optimizer, weight, bias, data, 20)
    weight2 = weight.detach().clone().requires_grad_(True)
    bias2 = bias.detach().clone().requires_grad_(True)
    fresh = component.create([weight2, bias2], **_options(component))
    fresh.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    for i in range(20):
        torch.manual_seed(i)
        _run(component, optimizer, weight, bias, data, 1)
        torch.manual_seed(i)
        _run(component, fresh, weight2, bias2, data, 1)
        if not (torch.equal(weight, weight2) and torch.equal(bias, bias2)):
            raise AssertionError("trajectories diverged after loading")


@check("optimizer")
def check_closure(component: ComponentRef) -> None:
    """``step(closure)`` calls the closure once and returns its loss."""
    weight, bias, data = _problem()
    optimizer = component.create([weight, bias], **_options(component))
    calls = []

    def closure() -> Any:
        calls.append(1)
        optimizer.zero_grad(set_to_none=True)
        loss = _loss(weight, bias, data)
        _backward(component, loss)
        return loss

    result = optimizer.step(closure)
    if not (len(calls) == 1):
        raise AssertionError(f"closure called {len(calls)} times")
    if not (result is not None):
        raise AssertionError("step(closure) must return the closure's loss")


@check("optimizer")
def check_param_group_lr(component: ComponentRef) -> None:
    """Groups keep their own lr: a group with a tiny lr moves much less than one with the base lr."""
    import torch

    fields = component.spec.options.model_fields
    if "lr" not in fields:
        skip("the optimizer takes no lr")
    torch.manual_seed(0)
    a = torch.randn(4, 4).requires_grad_(True)
    b = a.detach().clone().requires_grad_(True)
    a0, b0 = a.detach().clone(), b.detach().clone()
    optimizer = component.create([{"params": [a]}, {"params": [b], "lr": _LR * 1e-4}], lr=_LR)
    if not (optimizer.param_groups[1]["lr"] == _LR * 1e-4):
        raise AssertionError('check failed: optimizer.param_groups[1]["lr"] == _LR * 1e-4')
    for _ in range(3):
        optimizer.zero_grad(set_to_none=True)
        loss = (a**2).sum() + (b**2).sum()
        _backward(component, loss)
        optimizer.step()
    moved_a = float((a.detach() - a0).abs().max())
    moved_b = float((b.detach() - b0).abs().max())
    if not (moved_a > 0):
        raise AssertionError("the base-lr group did not move")
    if not (moved_b < moved_a):
        raise AssertionError(f"the small-lr group moved as much ({moved_b}) as the base one ({moved_a})")


@check("optimizer")
def check_skips_params_without_grad(component: ComponentRef) -> None:
    """A parameter whose grad is None is left unchanged (and gets no state)."""
    import torch

    weight, bias, data = _problem()
    frozen = torch.randn(3, 3).requires_grad_(True)
    before = frozen.detach().clone()
    optimizer = component.create([weight, bias, frozen], **_options(component))
    _run(component, optimizer, weight, bias, data, 3)
    if not (frozen.grad is None):
        raise AssertionError('check failed: frozen.grad is None')
    if not (torch.equal(frozen, before)):
        raise AssertionError("a parameter without a gradient was changed")


@check("optimizer")
def check_zero_grad_set_to_none(component: ComponentRef) -> None:
    """``zero_grad(set_to_none=True)`` leaves every grad as None."""
    weight, bias, data = _problem()
    optimizer = component.create([weight, bias], **_options(component))
    _run(component, optimizer, weight, bias, data, 1)
    _backward(component, _loss(weight, bias, data))
    optimizer.zero_grad(set_to_none=True)
    if not (weight.grad is None and bias.grad is None):
        raise AssertionError('check failed: weight.grad is None and bias.grad is None')


def _group_settings(component: ComponentRef) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two different, valid settings for the options this optimizer has besides lr (A: no decay)."""
    fields = component.spec.options.model_fields
    num_betas = int(getattr(component.spec, "num_betas", 2))
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    if "weight_decay" in fields:
        a["weight_decay"], b["weight_decay"] = 0.0, 0.1
    if "betas" in fields:
        a["betas"] = (0.9, 0.999) if num_betas == 2 else (0.98, 0.92, 0.99)
        b["betas"] = (0.8, 0.95) if num_betas == 2 else (0.9, 0.85, 0.95)
    if "eps" in fields:
        a["eps"], b["eps"] = 1e-8, 1e-3
    if "momentum" in fields:
        a["momentum"], b["momentum"] = 0.9, 0.5
    return a, b


@check("optimizer")
def check_group_settings_beyond_lr(component: ComponentRef) -> None:
    """Every group's own weight_decay/betas/eps/momentum is used, not the optimizer's defaults.

    Built through ``create_optimizer`` with two groups that each state their settings (A: no weight
    decay; B: decay and other betas/eps/momentum): the trajectory must not depend on which of the
    two is passed as the top-level default, and B's settings must change B's trajectory.
    """
    import torch

    from pimm.core.optim import create_optimizer

    a_set, b_set = _group_settings(component)
    if not a_set:
        skip("the optimizer has no weight_decay, betas, eps or momentum option")

    def run(top: dict[str, Any], second: dict[str, Any]) -> list[Any]:
        gen = torch.Generator().manual_seed(3)
        params = [torch.randn(4, 6, generator=gen).requires_grad_(True) for _ in range(2)]
        groups = [{"params": [params[0]], **a_set}, {"params": [params[1]], **second}]
        optimizer = create_optimizer(groups, component.qualified_name, lr=_LR, filter_bias_and_bn=False, **top)
        torch.manual_seed(0)  # equal draws for optimizers with random probes
        for _ in range(4):
            optimizer.zero_grad(set_to_none=True)
            loss = sum(((p * torch.linspace(-1.0, 1.0, 6)).sum(1) - 1.0).square().sum() for p in params)
            _backward(component, loss)
            optimizer.step()
        return [p.detach().clone() for p in params]

    with_a_defaults = run(a_set, b_set)
    with_b_defaults = run(b_set, b_set)
    for i, (x, y) in enumerate(zip(with_a_defaults, with_b_defaults)):
        if not torch.equal(x, y):
            raise AssertionError(
                f"group {i}'s trajectory changed with the top-level defaults although the group states "
                f"{sorted(b_set)}: a setting is read from the optimizer's defaults instead of the group")
    same_as_a = run(a_set, a_set)
    if torch.equal(same_as_a[1], with_a_defaults[1]):
        raise AssertionError(f"group settings {sorted(b_set)} had no effect on the trajectory")
