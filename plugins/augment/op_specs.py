"""Specs of the RandAugment-style image ops (data only; no torch or PIL import).

Every op is its own ``augment`` component with role ``"op"``. All ops share one options model,
:class:`OpOptions`: probability ``p``, magnitude ``magnitude`` (0..10 scale), magnitude noise
``mstd``, optional upper clip ``mmax`` and the shared ``hparams`` (:class:`OpHParams`). A
third-party op reuses these two models so the policies can build it like a builtin one.

Tags: ``"tensor"`` (runs on uint8/float tensors, single or batched), ``"increasing"`` (magnitude 0
is close to identity), ``"geometric"`` (moves pixels; fills with ``img_mean``), ``"signed"``
(the argument's sign is flipped at random, 50/50 per call), ``"stochastic"`` (draws more random
numbers inside the op: its PIL and tensor results cannot be compared sample for sample).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from pimm.core.specs import AugmentSpec, Options

__all__ = ["OpHParams", "OpOptions", "OP_SPECS", "OP_TABLE"]

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

    @field_validator("hparams", mode="before")
    @classmethod
    def _none_hparams(cls, value: Any) -> Any:
        return {} if value is None else value


# name -> (summary, extra tags). Order is the documentation order.
OP_TABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "AutoContrast": ("Stretch each channel to the full 0..255 range.", ()),
    "Equalize": ("Histogram-equalize each channel.", ()),
    "Invert": ("Invert pixel values (255 - x).", ()),
    "Rotate": ("Rotate by ±30·m/10 degrees about the centre.", ("geometric", "signed")),
    "Posterize": ("Keep int(4·m/10) high bits (0..4, fewer bits at low m).", ()),
    "PosterizeIncreasing": ("Keep 4 - int(4·m/10) high bits (stronger with m).", ("increasing",)),
    "PosterizeOriginal": ("Keep int(4·m/10) + 4 high bits (4..8, AutoAugment paper).", ()),
    "Solarize": ("Invert pixels at or above threshold min(256, int(256·m/10)).", ()),
    "SolarizeIncreasing": ("Invert pixels at or above 256 - min(256, int(256·m/10)).", ("increasing",)),
    "SolarizeAdd": ("Add min(128, int(110·m/10)) to pixels below 128 (clipped at 255).", ()),
    "Color": ("Saturation factor 1.8·m/10 + 0.1.", ()),
    "ColorIncreasing": ("Saturation factor max(0.1, 1 ± 0.9·m/10).", ("increasing", "signed")),
    "Contrast": ("Contrast factor 1.8·m/10 + 0.1.", ()),
    "ContrastIncreasing": ("Contrast factor max(0.1, 1 ± 0.9·m/10).", ("increasing", "signed")),
    "Brightness": ("Brightness factor 1.8·m/10 + 0.1.", ()),
    "BrightnessIncreasing": ("Brightness factor max(0.1, 1 ± 0.9·m/10).", ("increasing", "signed")),
    "Sharpness": ("Sharpness factor 1.8·m/10 + 0.1.", ()),
    "SharpnessIncreasing": ("Sharpness factor max(0.1, 1 ± 0.9·m/10).", ("increasing", "signed")),
    "ShearX": ("Horizontal shear ±0.3·m/10.", ("geometric", "signed")),
    "ShearY": ("Vertical shear ±0.3·m/10.", ("geometric", "signed")),
    "TranslateX": ("Shift ±translate_const·m/10 pixels horizontally.", ("geometric", "signed")),
    "TranslateY": ("Shift ±translate_const·m/10 pixels vertically.", ("geometric", "signed")),
    "TranslateXRel": ("Shift ±translate_pct·m/10 of the width.", ("geometric", "signed")),
    "TranslateYRel": ("Shift ±translate_pct·m/10 of the height.", ("geometric", "signed")),
    "Desaturate": ("Saturation factor clamp(1 - (0.5 + 0.5·m/10), 0, 1).", ()),
    "GaussianBlur": ("Gaussian blur of radius 0.1 + 1.9·m/10.", ()),
    "GaussianBlurRand": ("Gaussian blur of radius uniform in [0.1, 2·m/10].", ("stochastic",)),
    "Cutout": ("Fill a square of side 2·int(cutout_const·m/10) at a random centre with img_mean.", ("stochastic",)),
}

OP_SPECS: list[AugmentSpec] = [
    AugmentSpec(
        name=name,
        target=f"pimm.plugins.augment.ops:{name}",
        options=OpOptions,
        role="op",
        tags=frozenset(("tensor", *tags)),
        summary=summary,
    )
    for name, (summary, tags) in OP_TABLE.items()
]
