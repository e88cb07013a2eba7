"""Conformance checks that a model goes through PyTorch's graph tools the way timm's models do.

``torch.jit.script(torch.fx.symbolic_trace(model))`` is a chain timm users run (its own tests do):
FX turns the model into a flat graph module whose generated ``forward`` copies the annotations of the
model's ``forward``; TorchScript then compiles that generated code. The classic way to break it is a
model module with ``from __future__ import annotations``: the annotations stay strings, FX writes them
into the generated code as names TorchScript cannot resolve, and scripting fails.
"""

from __future__ import annotations

import warnings
from typing import Any

from .checks_model import _base, _close, _input
from .kit import ComponentRef, check


def _string_annotations(model: Any) -> list[str]:
    """Names of the root ``forward``'s parameters (and return) annotated with strings."""
    forward = getattr(type(model), "forward", None)
    annotations = getattr(forward, "__annotations__", None) or {}
    return sorted(name for name, value in annotations.items() if isinstance(value, str))


@check("model")
def check_fx_then_torchscript(component: ComponentRef) -> None:
    """torch.jit.script(torch.fx.symbolic_trace(model)) builds and matches eager in eval mode."""
    import torch

    model = _base(component)
    x = _input(component)
    try:
        traced = torch.fx.symbolic_trace(model)
    except Exception as exc:
        raise AssertionError(f"torch.fx.symbolic_trace(model) failed: {type(exc).__name__}: {exc}") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit's own deprecation notice
            scripted = torch.jit.script(traced)
    except Exception as exc:
        strings = _string_annotations(model)
        hint = (
            f"; the annotations of {type(model).__name__}.forward ({', '.join(strings)}) are strings — "
            "remove `from __future__ import annotations` from the module that defines it"
            if strings else ""
        )
        raise AssertionError(
            f"torch.jit.script(torch.fx.symbolic_trace(model)) failed: {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}{hint}"
        ) from exc
    with torch.no_grad():
        _close(scripted(x), model(x), "scripted FX graph vs eager", rtol=1e-4, atol=1e-5)
