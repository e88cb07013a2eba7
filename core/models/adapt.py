"""Fitting a checkpoint to a model: unwrapping, key remaps, first-conv and classifier adaptation.

Rules (the same for pretrained weights and ``checkpoint_path``):

* **Unwrapping.** A checkpoint dict holding ``state_dict_ema``, ``model_ema``, ``state_dict`` or
  ``model`` (that priority with ``use_ema=True``; EMA keys skipped otherwise) is unwrapped, and key
  prefixes ``module.`` (DataParallel/DDP) and ``_orig_mod.`` (``torch.compile``) are removed.
* **Remaps.** A model class may define ``checkpoint_filter_fn(state_dict)`` (a method or a
  ``staticmethod``; a two-argument form ``(state_dict, model)`` is accepted too). It receives the
  unwrapped state dict and returns it in the model's own key layout, e.g. VGG turning torchvision
  keys into timm's. It must return checkpoints that already match unchanged.
* **First conv** (``pretrained_cfg['first_conv']``): when the checkpoint's input channels ``C``
  differ from the model's ``in_chans``, the weight is adapted. For ``in_chans == 1`` it is summed
  over the input channels. Otherwise it is tiled cyclically over the input-channel dimension,
  truncated to ``in_chans`` and multiplied by ``C / in_chans``. With ``C == 3`` this is exactly
  timm's rule (2 channels → ``[R, G] * 1.5``); for any other ``C`` the same rule keeps the expected
  response to inputs of similar statistics. Computed in float32, cast back.
* **Classifier** (``pretrained_cfg['classifier']``): dropped when the model's ``num_classes``
  differs from the checkpoint's; those keys (and only those) may then be missing. Every other
  load is ``strict``.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn

from ..errors import PimmError

__all__ = [
    "CheckpointMismatchError",
    "unwrap_checkpoint",
    "strip_prefixes",
    "adapt_input_conv",
    "apply_checkpoint_filter",
    "fit_state_dict",
    "load_fitted",
    "load_checkpoint",
]

_log = logging.getLogger(__name__)

EMA_KEYS = ("state_dict_ema", "model_ema")
PLAIN_KEYS = ("state_dict", "model")
PREFIXES = ("module.", "_orig_mod.")


class CheckpointMismatchError(PimmError):
    """A checkpoint's keys or shapes do not fit the model (beyond what adaptation handles)."""


def strip_prefixes(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Remove wrapper prefixes (``module.``, ``_orig_mod.``, in any order) from every key."""
    out: dict[str, Any] = {}
    for key, value in state_dict.items():
        changed = True
        while changed:
            changed = False
            for prefix in PREFIXES:
                if key.startswith(prefix):
                    key = key[len(prefix):]
                    changed = True
        out[key] = value
    return out


def unwrap_checkpoint(checkpoint: Any, use_ema: bool = True) -> dict[str, Any]:
    """The model state dict inside a checkpoint object (EMA first when ``use_ema``), prefixes removed."""
    if not isinstance(checkpoint, Mapping):
        raise CheckpointMismatchError(
            f"a checkpoint must be a dict of tensors (or hold one under 'state_dict'), got {type(checkpoint).__name__}"
        )
    keys = (EMA_KEYS if use_ema else ()) + PLAIN_KEYS
    inner: Any = checkpoint
    for key in keys:
        candidate = checkpoint.get(key)
        if isinstance(candidate, Mapping) and candidate:
            inner = candidate
            break
    tensors = {k: v for k, v in inner.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointMismatchError(
            f"no tensors found in the checkpoint (top-level keys: {sorted(map(str, checkpoint))[:10]})"
        )
    return strip_prefixes(tensors)


def adapt_input_conv(in_chans: int, weight: torch.Tensor) -> torch.Tensor:
    """A first-conv weight ``[O, C, ...]`` adapted to ``in_chans`` input channels (see module rules)."""
    if in_chans < 1:
        raise CheckpointMismatchError(f"in_chans must be >= 1, got {in_chans}")
    source = weight.shape[1]
    if in_chans == source:
        return weight
    dtype = weight.dtype
    w = weight.float()
    if in_chans == 1:
        w = w.sum(dim=1, keepdim=True)
    else:
        repeats = math.ceil(in_chans / source)
        w = w.repeat(1, repeats, *([1] * (w.dim() - 2)))[:, :in_chans]
        w = w * (source / in_chans)
    return w.to(dtype)


def _call_filter(fn: Callable[..., Any], state_dict: dict[str, Any], model: nn.Module) -> dict[str, Any]:
    try:
        params = [
            p for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
    except (TypeError, ValueError):
        params = []
    result = fn(state_dict, model) if len(params) >= 2 else fn(state_dict)
    if not isinstance(result, Mapping):
        raise CheckpointMismatchError(f"checkpoint filter {fn!r} must return a dict, got {type(result).__name__}")
    return dict(result)


def apply_checkpoint_filter(
    model: nn.Module, state_dict: dict[str, Any], filter_fn: Callable[..., Any] | None = None
) -> dict[str, Any]:
    """Run ``filter_fn`` (if given) and the model's own ``checkpoint_filter_fn`` (if it has one)."""
    if filter_fn is not None:
        state_dict = _call_filter(filter_fn, state_dict, model)
    own = getattr(model, "checkpoint_filter_fn", None)
    if callable(own):
        state_dict = _call_filter(own, state_dict, model)
    return state_dict


def _names(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def fit_state_dict(
    model: nn.Module,
    state_dict: dict[str, Any],
    first_conv: str | Iterable[str] | None = None,
    classifier: str | Iterable[str] | None = None,
    source_num_classes: int | None = None,
    label_offset: int | None = None,
) -> tuple[dict[str, Any], set[str]]:
    """Adapt ``state_dict`` to ``model``; return it and the keys allowed to be missing (dropped head)."""
    target = model.state_dict()
    out = dict(state_dict)
    for name in _names(first_conv):
        key = f"{name}.weight"
        if key in out and key in target and out[key].dim() >= 3 and out[key].shape[1] != target[key].shape[1]:
            out[key] = adapt_input_conv(target[key].shape[1], out[key])
            _log.info("adapted %s from %d to %d input channels", key, state_dict[key].shape[1], target[key].shape[1])
    allowed_missing: set[str] = set()
    model_classes = getattr(model, "num_classes", None)
    for name in _names(classifier):
        keys = [k for k in (f"{name}.weight", f"{name}.bias") if k in out or k in target]
        if not keys:
            continue
        drop = source_num_classes is not None and model_classes is not None and model_classes != source_num_classes
        weight_key = f"{name}.weight"
        if not drop and weight_key in out and weight_key in target and out[weight_key].shape != target[weight_key].shape:
            drop = True  # head shapes differ although the counts agree: fresh head rather than an error
        if drop:
            for k in keys:
                out.pop(k, None)
                if k in target:
                    allowed_missing.add(k)
        elif label_offset:
            for k in keys:
                if k in out:
                    out[k] = out[k][label_offset:]
    return out, allowed_missing


def load_fitted(
    model: nn.Module,
    state_dict: dict[str, Any],
    allowed_missing: set[str] = frozenset(),  # type: ignore[assignment]
    strict: bool = True,
    assign: bool = False,
) -> None:
    """``load_state_dict`` that is strict except for ``allowed_missing``; clear error on mismatch.

    With ``strict=False`` keys whose shapes differ are skipped (left at initialisation) instead.
    """
    target = model.state_dict()
    wrong = [
        f"{k} {tuple(v.shape)} vs model {tuple(target[k].shape)}"
        for k, v in state_dict.items()
        if k in target and tuple(v.shape) != tuple(target[k].shape)
    ]
    if wrong and strict:
        raise CheckpointMismatchError(
            f"checkpoint does not fit {type(model).__name__}: shape mismatch for {'; '.join(wrong[:6])}"
            f"{' ...' if len(wrong) > 6 else ''}. Check the architecture and options (num_classes, in_chans) "
            "the checkpoint was made with."
        )
    if wrong:
        _log.warning("skipped checkpoint tensors with other shapes: %s", wrong)
        state_dict = {k: v for k, v in state_dict.items() if not (k in target and v.shape != target[k].shape)}
    result = model.load_state_dict(state_dict, strict=False, assign=assign)
    missing = [k for k in result.missing_keys if k not in allowed_missing]
    unexpected = list(result.unexpected_keys)
    if strict and (missing or unexpected):
        def show(keys: list[str]) -> str:
            return ", ".join(keys[:8]) + (f" ... ({len(keys)} in all)" if len(keys) > 8 else "")

        parts = []
        if missing:
            parts.append(f"missing keys: {show(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {show(unexpected)}")
        raise CheckpointMismatchError(
            f"checkpoint does not fit {type(model).__name__}: {'; '.join(parts)}. Check that the checkpoint "
            "was made for this architecture; a foreign key layout needs a checkpoint_filter_fn on the model, "
            "and strict=False loads what matches."
        )
    if result.missing_keys:
        _log.info("missing keys (left at initialisation): %s", result.missing_keys)
    if unexpected:
        _log.warning("unexpected keys ignored: %s", unexpected)


def _guess_head(model: nn.Module) -> str | None:
    """Module name of ``model.get_classifier()`` (None when it has no such method or head)."""
    get = getattr(model, "get_classifier", None)
    if not callable(get):
        return None
    try:
        head = get()
    except Exception:
        return None
    for name, module in model.named_modules():
        if module is head and name:
            return name
    return None


def load_checkpoint(
    model: nn.Module,
    checkpoint_path: str,
    use_ema: bool = True,
    strict: bool = True,
    filter_fn: Callable[..., Any] | None = None,
    adapt: bool = True,
) -> nn.Module:
    """Load a checkpoint file into ``model`` (unwrap, remap, adapt first conv and head, strict load).

    With ``adapt`` the first conv is fitted to the model's ``in_chans`` and a head of a different
    size is left at its initialisation; with ``adapt=False`` keys and shapes must match exactly.
    """
    from .weights import read_checkpoint

    state_dict = unwrap_checkpoint(read_checkpoint(checkpoint_path), use_ema=use_ema)
    state_dict = apply_checkpoint_filter(model, state_dict, filter_fn)
    allowed: set[str] = set()
    if adapt:
        cfg = getattr(model, "pretrained_cfg", None) or {}
        first_conv = cfg.get("first_conv") if isinstance(cfg, Mapping) else None
        classifier = (cfg.get("classifier") if isinstance(cfg, Mapping) else None) or _guess_head(model)
        if not first_conv:
            first_conv = next(
                (k[: -len(".weight")] for k, v in model.state_dict().items() if k.endswith(".weight") and v.dim() == 4),
                None,
            )
        state_dict, allowed = fit_state_dict(model, state_dict, first_conv, classifier)
    load_fitted(model, state_dict, allowed, strict=strict)
    return model
