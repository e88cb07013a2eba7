"""Folding eval-mode batch norms into the convolutions that feed them, for faster evaluation.

In eval mode a BatchNorm2d is a fixed per-channel affine map, so when it reads nothing but the output
of a Conv2d (and nothing else reads that output) the pair is one convolution with rescaled weights
and a bias. ``pimm validate`` and ``pimm predict`` evaluate the folded model: one pass over the
activations less per pair, which is most of the batch norm's cost (with bf16 autocast on the CPU the
fp32 batch norm between two bf16 convolutions also costs two casts).

Which pairs fold is read off a ``torch.fx`` trace of the model, so only true conv -> BN edges fold;
a model that cannot be traced (some plugin models) is evaluated as it is. Each folded model is
checked against the unfolded one on a fixed random batch in fp32 and restored when they differ.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["FoldResult", "fold_batchnorm", "fold_for_eval"]

#: fp32 outputs of the folded model must match the unfolded ones this closely (relative to their scale)
_MATCH_RTOL = 1e-4


@dataclass
class FoldResult:
    """How many conv + batch-norm pairs were folded, and why none were when ``folded`` is 0."""

    folded: int = 0
    reason: str = ""
    #: (conv's parent, its attribute, the conv, bn's parent, its attribute, the bn) for each fold, to restore
    _undo: list[tuple[nn.Module, str, nn.Module, nn.Module, str, nn.Module]] = field(default_factory=list, repr=False)


def _pairs(model: nn.Module) -> tuple[list[tuple[str, str]], str]:
    """(conv name, batch-norm name) pairs the model's traced graph connects one to one, or ([], why)."""
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception as exc:  # noqa: BLE001 - any tracing failure means: evaluate unfolded
        first = str(exc).splitlines()[0] if str(exc) else ""
        return [], f"the model cannot be traced ({type(exc).__name__}{': ' + first[:80] if first else ''})"
    modules = dict(model.named_modules())
    calls = Counter(n.target for n in graph.nodes if n.op == "call_module")
    # modules whose parameters or buffers the forward reads directly (e.g. ``self.bn.weight``)
    read = {str(n.target).rpartition(".")[0] for n in graph.nodes if n.op == "get_attr"}
    pairs = []
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(modules.get(node.target), nn.BatchNorm2d):
            continue
        if len(node.args) != 1 or node.kwargs:
            continue
        source = node.args[0]
        if not isinstance(source, torch.fx.Node) or source.op != "call_module":
            continue
        conv, bn = modules.get(source.target), modules[node.target]
        if type(conv) is not nn.Conv2d or len(source.users) != 1:
            continue
        if calls[source.target] != 1 or calls[node.target] != 1:
            continue  # a module used twice would fold for one use and break the other
        if source.target in read or node.target in read:
            continue  # the forward reads their weights or statistics itself
        if bn.running_mean is None or bn.running_var is None:
            continue  # no running statistics: eval mode normalises with the batch's own
        if any((m._forward_hooks or m._forward_pre_hooks) for m in (conv, bn)):
            continue  # hooks expect the modules as they are
        pairs.append((source.target, node.target))
    return pairs, "" if pairs else "no convolution feeds a batch norm directly"


def _parent(model: nn.Module, name: str) -> tuple[nn.Module, str]:
    parent, _, child = name.rpartition(".")
    return (model.get_submodule(parent) if parent else model), child


def _sample(model: nn.Module, input_size: tuple[int, ...]) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    return torch.rand(2, *input_size, generator=gen).mul_(2).sub_(1).to(device)


def _undo(result: FoldResult) -> None:
    for conv_parent, conv_child, conv, bn_parent, bn_child, bn in reversed(result._undo):
        setattr(conv_parent, conv_child, conv)
        setattr(bn_parent, bn_child, bn)
    result._undo.clear()


def fold_batchnorm(model: nn.Module, input_size: tuple[int, ...]) -> FoldResult:
    """Fold, in place, each eval-mode BatchNorm2d into the Conv2d that alone feeds it (the batch norm
    becomes ``nn.Identity``). ``model`` is put in eval mode. The folded model is checked in fp32
    against the unfolded one on a fixed random batch of ``input_size`` and restored if they differ,
    so the result is the folded model or the model unchanged, with the reason in ``FoldResult``.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model.eval()
    if not any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        return FoldResult(reason="the model has no batch norms")
    pairs, why = _pairs(model)
    if not pairs:
        return FoldResult(reason=why)
    x = _sample(model, input_size)
    with torch.no_grad():
        reference = model(x)
    result = FoldResult()
    with torch.no_grad():
        for conv_name, bn_name in pairs:
            conv_parent, conv_child = _parent(model, conv_name)
            bn_parent, bn_child = _parent(model, bn_name)
            conv, bn = getattr(conv_parent, conv_child), getattr(bn_parent, bn_child)
            setattr(conv_parent, conv_child, fuse_conv_bn_eval(conv, bn))
            setattr(bn_parent, bn_child, nn.Identity())
            result._undo.append((conv_parent, conv_child, conv, bn_parent, bn_child, bn))
        try:
            folded = model(x)
        except Exception as exc:  # noqa: BLE001 - the model relied on a module folding replaced
            _undo(result)
            return FoldResult(reason=f"the folded model failed ({type(exc).__name__})")
    if not isinstance(reference, torch.Tensor) or not isinstance(folded, torch.Tensor) \
            or folded.shape != reference.shape:
        _undo(result)
        return FoldResult(reason="the model's output is not one tensor")
    scale = reference.abs().max().clamp_min(1e-6)
    gap = float((folded - reference).abs().max() / scale)
    if not gap <= _MATCH_RTOL:  # also catches NaN
        _undo(result)
        return FoldResult(reason=f"folding changed the outputs (relative difference {gap:.2g})")
    result.folded = len(pairs)
    return result


def fold_for_eval(model: nn.Module, plan: Any, enabled: bool, input_size: tuple[int, ...]) -> None:
    """Fold ``model``'s batch norms when ``enabled`` (the default of ``pimm validate`` / ``predict``), and
    record the outcome in the speed plan (``plan.fold_bn``: pairs folded; ``plan.reasons['fold_bn']``)."""
    if not enabled:
        plan.fold_bn = 0
        plan.reasons["fold_bn"] = "off (--no-fold-bn)"
        return
    result = fold_batchnorm(model, input_size)
    plan.fold_bn = result.folded
    plan.reasons["fold_bn"] = (f"on: {result.folded} batch norms folded into the convolutions that feed them "
                               "(eval only; outputs equal up to fp32 rounding)" if result.folded
                               else f"off: {result.reason}")
