"""Pick a loss by name or by timm's rule, check it fits the run's targets, and create it."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..factory import create, list_names, resolve
from ..specs import LossSpec

__all__ = ["create_loss", "default_loss_name", "list_losses"]


def list_losses(pattern: str | None = None) -> list[str]:
    """Registered loss names (optionally filtered by a wildcard pattern)."""
    return list_names("loss", pattern)


def default_loss_name(*, mixup: bool = False, smoothing: float = 0.0, bce: bool = False) -> str:
    """timm's choice: bce when asked; else soft-target CE with Mixup/CutMix, label smoothing, or plain CE."""
    if bce:
        return "bce"
    if mixup:
        return "soft_target"
    return "label_smoothing" if smoothing else "cross_entropy"


def create_loss(name: str | None = None, *, mixup: bool = False, smoothing: float = 0.0, bce: bool = False,
                bce_target_thresh: float | None = None, bce_sum: bool = False, bce_pos_weight: float | None = None,
                **options: Any) -> Any:
    """Create the training loss ``name`` (default: :func:`default_loss_name`) for a run.

    ``mixup``: the run mixes batches, so targets are per-class probabilities; a loss that takes only
    class indices is refused with the names that fit. ``smoothing`` goes to the loss's ``smoothing``
    option, except with Mixup (its targets are already smoothed, as in timm). The ``bce_*`` values go
    to a loss that has the matching options (``target_threshold``, ``sum_classes``, ``pos_weight``).
    """
    if name is None:
        name = default_loss_name(mixup=mixup, smoothing=smoothing, bce=bce)
    elif bce and name not in ("bce", "binary_cross_entropy"):
        raise ConfigError(f"--bce-loss asks for binary cross-entropy but --loss names {name!r}; pass one of them")
    entry = resolve("loss", name)
    spec: LossSpec = entry.spec  # type: ignore[assignment]  # the registry keeps one spec class per kind
    if mixup and "soft" not in spec.targets:
        fits = [n for n in list_names("loss") if "soft" in getattr(resolve("loss", n).spec, "targets", ())]
        raise ConfigError(
            f"loss {entry.name!r} takes class indices only, but Mixup/CutMix produce per-class probability targets; "
            f"use one of {', '.join(fits)} (e.g. --loss soft_target), or turn mixing off"
        )
    if not mixup and "index" not in spec.targets:
        raise ConfigError(
            f"loss {entry.name!r} takes per-class probability targets only (Mixup/CutMix), but this run gives class "
            "indices; turn on --mixup/--cutmix or pick a loss such as cross_entropy or label_smoothing"
        )
    fields = spec.options.model_fields
    chosen: dict[str, Any] = {}
    if "smoothing" in fields:
        chosen["smoothing"] = 0.0 if mixup else smoothing
    elif smoothing and not mixup:
        raise ConfigError(f"loss {entry.name!r} has no label smoothing, but --smoothing is {smoothing}; pass "
                          "--smoothing 0, or pick label_smoothing / cross_entropy / bce")
    extras = {"target_threshold": bce_target_thresh, "sum_classes": bce_sum, "pos_weight": bce_pos_weight}
    for key, value in extras.items():
        if key in fields:
            chosen[key] = value
        elif value not in (None, False):
            raise ConfigError(f"loss {entry.name!r} has no {key!r} option (given by --bce-*); use --loss bce")
    chosen.update(options)
    return create("loss", entry.qualified_name, **chosen)
