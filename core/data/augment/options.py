"""The options every augment op component accepts: :class:`OpOptions` and its shared :class:`OpHParams`.

A policy (RandAugment, AutoAugment, AugMix, or a third-party one) builds any registered op by name
with these options, so an op plugin declares ``options=OpOptions`` in its spec. Data only: no
torch or PIL import.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, field_validator

from ...specs import Options

__all__ = ["OpHParams", "OpOptions"]

_INTERP_NAMES = {0: "nearest", 2: "bilinear", 3: "bicubic", 1: "lanczos", 4: "box", 5: "hamming"}


class OpHParams(Options):
    """Settings shared by every op of a policy (timm's ``hparams`` dict, validated)."""

    img_mean: tuple[int, ...] = Field(
        default=(128, 128, 128),
        description="Fill colour (0..255 per channel) for pixels that geometric ops and Cutout uncover.",
    )
    translate_const: float = Field(
        default=250, ge=0, description="TranslateX/TranslateY: pixels moved at magnitude 10."
    )
    translate_pct: float = Field(
        default=0.45, ge=0, description="TranslateXRel/TranslateYRel: fraction of the size moved at magnitude 10."
    )
    cutout_const: int = Field(
        default=40, ge=0, description="Cutout: half the side of the square, in pixels, at magnitude 10."
    )
    interpolation: str | None = Field(
        default=None,
        description="Resampling of geometric ops: 'bilinear', 'bicubic' or 'nearest'; None or 'random' "
        "picks bilinear or bicubic at random on every call.",
    )
    magnitude_std: float | None = Field(
        default=None, description="timm-style magnitude noise; used by policies when their config sets none."
    )
    magnitude_max: float | None = Field(
        default=None, description="timm-style magnitude upper bound; used by policies when their config sets none."
    )

    @field_validator("img_mean", mode="before")
    @classmethod
    def _mean_tuple(cls, value: Any) -> Any:
        if isinstance(value, (int, float)):
            value = (value,)
        if isinstance(value, (list, tuple)):
            return tuple(min(255, max(0, int(round(float(v))))) for v in value)
        return value

    @field_validator("interpolation", mode="before")
    @classmethod
    def _interp_name(cls, value: Any) -> Any:
        if value is None:
            return None
        raw = getattr(value, "value", value)  # torchvision InterpolationMode / PIL Resampling enums
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = _INTERP_NAMES.get(raw, raw)
        if not isinstance(raw, str):
            raise ValueError(f"interpolation must be a name like 'bilinear', got {value!r}")
        raw = raw.lower()
        if raw == "random":
            return None
        if raw not in ("nearest", "bilinear", "bicubic"):
            raise ValueError(f"interpolation {raw!r} is not one of 'nearest', 'bilinear', 'bicubic', 'random'")
        return raw


class OpOptions(Options):
    """Options of every op component (builtin or third-party)."""

    p: float = Field(default=0.5, ge=0.0, le=1.0, description="Probability of applying the op on a call.")
    magnitude: int | float = Field(
        default=10, ge=0, description="Strength on the 0..10 scale (clipped to [0, mmax or 10] after noise)."
    )
    mstd: int | float = Field(
        default=0,
        description="Magnitude noise: 0 none; >0 gaussian std around `magnitude`; inf, -inf or >100 "
        "uniform in [0, magnitude].",
    )
    mmax: int | float | None = Field(
        default=None, gt=0, description="Upper clip of the sampled magnitude (None: 10)."
    )
    hparams: OpHParams = Field(
        default_factory=OpHParams, description="Shared settings: fill colour, translate sizes, interpolation."
    )

    @field_validator("magnitude", "mmax")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if value is not None and not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value!r}")
        return value

    @field_validator("mstd")
    @classmethod
    def _not_nan(cls, value: Any) -> Any:
        if math.isnan(value):
            raise ValueError("must be a number (inf for uniform noise), got nan")
        return value

    @field_validator("hparams", mode="before")
    @classmethod
    def _none_hparams(cls, value: Any) -> Any:
        return {} if value is None else value
