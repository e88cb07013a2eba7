"""Builtin plugin 'losses': timm's classification losses as loss components.

Specs and options only (no torch import here); :mod:`.classification` holds cross-entropy and the
binary cross-entropy; label smoothing and soft-target cross-entropy are the framework's classes in
:mod:`pimm.core.data.losses`.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from pimm.core import hookimpl
from pimm.core.specs import LossSpec, Options


class CrossEntropyOptions(Options):
    """torch's cross-entropy; ``smoothing`` is its ``label_smoothing``."""

    smoothing: float = Field(0.0, ge=0, lt=1, description="Label smoothing (0: plain cross-entropy).")


class LabelSmoothingOptions(Options):
    """Cross-entropy against smoothed one-hot targets."""

    smoothing: float = Field(0.1, ge=0, lt=1, description="Label smoothing.")


class BinaryCrossEntropyOptions(Options):
    """timm's BinaryCrossEntropy options (``--bce-loss`` and friends)."""

    smoothing: float = Field(0.1, ge=0, lt=1, description="Smoothing of one-hot targets built from class indices.")
    target_threshold: Optional[float] = Field(None, ge=0, le=1,
                                              description="Binarize targets: 1 above this value, else 0.")
    sum_classes: bool = Field(False, description="Sum the loss over classes before averaging over the batch.")
    pos_weight: Optional[float] = Field(None, gt=0, description="Weight of the positive term of every class.")
    reduction: Literal["mean", "sum"] = Field("mean", description="Reduction over batch and classes.")
    smooth_dense: bool = Field(False, description="Also smooth targets that are already per-class (towards 0.5).")


_HERE = "pimm.plugins.losses.classification"
_FRAMEWORK = "pimm.core.data.losses"
_BOTH = frozenset({"index", "soft"})


@hookimpl
def pimm_losses() -> list[LossSpec]:
    """Cross-entropy, label smoothing, soft-target cross-entropy and binary cross-entropy."""
    return [
        LossSpec(name="cross_entropy", aliases=("ce",), target=f"{_HERE}:CrossEntropyLoss",
                 options=CrossEntropyOptions, targets=_BOTH,
                 summary="torch's cross-entropy: class indices or per-class probabilities, optional smoothing."),
        LossSpec(name="label_smoothing", aliases=("label_smoothing_cross_entropy",),
                 target=f"{_FRAMEWORK}:LabelSmoothingCrossEntropy", options=LabelSmoothingOptions,
                 targets=frozenset({"index"}),
                 summary="Cross-entropy with label smoothing for class-index targets (timm's default loss)."),
        LossSpec(name="soft_target", aliases=("soft_target_cross_entropy",),
                 target=f"{_FRAMEWORK}:SoftTargetCrossEntropy", targets=frozenset({"soft"}),
                 summary="Cross-entropy against per-class probability targets (Mixup/CutMix)."),
        LossSpec(name="bce", aliases=("binary_cross_entropy",), target=f"{_HERE}:BinaryCrossEntropy",
                 options=BinaryCrossEntropyOptions, targets=_BOTH,
                 summary="Per-class sigmoid binary cross-entropy with timm's smoothing, threshold and pos_weight."),
    ]
