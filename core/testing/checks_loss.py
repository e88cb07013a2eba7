"""Conformance checks for loss components: a finite scalar with gradients for every target form the
spec declares (``targets``: class indices and/or per-class probabilities), lower for right answers."""

from __future__ import annotations

from typing import Any

from .kit import ComponentRef, check

_B, _C = 4, 5


def _logits(requires_grad: bool = False) -> Any:
    import torch

    gen = torch.Generator().manual_seed(0)
    return torch.randn(_B, _C, generator=gen).requires_grad_(requires_grad)


def _targets(form: str) -> Any:
    import torch

    index = torch.tensor([0, 3, 1, 4])
    if form == "index":
        return index
    soft = torch.full((_B, _C), 0.1 / (_C - 1))
    soft[torch.arange(_B), index] = 0.9
    return soft


def _forms(component: ComponentRef) -> list[str]:
    return sorted(getattr(component.spec, "targets", {"index"}))


@check("loss")
def check_loss_scalar_finite_with_gradients(component: ComponentRef) -> None:
    """For each accepted target form: a finite 0-d tensor, finite gradients w.r.t. the logits."""
    import torch

    loss_fn = component.create()
    for form in _forms(component):
        x = _logits(requires_grad=True)
        loss = loss_fn(x, _targets(form))
        if not (isinstance(loss, torch.Tensor) and loss.ndim == 0 and torch.isfinite(loss)):
            raise AssertionError(f"{form} targets: expected a finite scalar tensor, got {loss!r}")
        loss.backward()
        if x.grad is None or not torch.isfinite(x.grad).all():
            raise AssertionError(f"{form} targets: no finite gradient reaches the logits")


@check("loss")
def check_loss_prefers_right_answers(component: ComponentRef) -> None:
    """Confident right logits give a lower loss than confident wrong ones, for each target form."""
    import torch

    loss_fn = component.create()
    index = torch.tensor([0, 3, 1, 4])
    right = torch.full((_B, _C), -4.0)
    right[torch.arange(_B), index] = 4.0
    wrong = torch.roll(right, shifts=1, dims=1)
    for form in _forms(component):
        target = _targets(form)
        good, bad = float(loss_fn(right, target)), float(loss_fn(wrong, target))
        if not good < bad:
            raise AssertionError(f"{form} targets: loss of right answers {good} is not below wrong ones {bad}")


@check("loss")
def check_loss_is_deterministic(component: ComponentRef) -> None:
    """The same logits and targets give the same loss twice (no hidden state between calls)."""
    loss_fn = component.create()
    for form in _forms(component):
        a, b = float(loss_fn(_logits(), _targets(form))), float(loss_fn(_logits(), _targets(form)))
        if a != b:
            raise AssertionError(f"{form} targets: {a} then {b} for the same input")
