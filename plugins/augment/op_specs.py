"""Specs of the builtin RandAugment-style ops (data only; no torch or PIL import).

Every op is its own ``augment`` component with role ``"op"``, declared here exactly as a
third-party plugin declares one: its name, the ``module:Class`` that holds its behaviour (level
mapping, PIL and tensor paths), a summary and its tags. All ops take the framework's
:class:`~pimm.core.data.augment.OpOptions`.

Tags: ``"tensor"`` (runs on uint8/float tensors, single or batched), ``"increasing"`` (magnitude 0
is close to identity), ``"geometric"`` (moves pixels; fills with ``img_mean``), ``"signed"``
(the argument's sign is flipped at random, 50/50 per call), ``"stochastic"`` (draws more random
numbers inside the op: its PIL and tensor results cannot be compared sample for sample).
"""

from __future__ import annotations

from pimm.core.data.augment.options import OpHParams, OpOptions
from pimm.core.specs import AugmentSpec

__all__ = ["OpHParams", "OpOptions", "OP_SPECS"]

_PACKAGE = "pimm.plugins.augment"


def _op(name: str, module: str, summary: str, *tags: str) -> AugmentSpec:
    return AugmentSpec(
        name=name,
        target=f"{_PACKAGE}.{module}:{name}",
        options=OpOptions,
        role="op",
        tags=frozenset(("tensor", *tags)),
        summary=summary,
    )


#: The builtin ops, in documentation order.
OP_SPECS: list[AugmentSpec] = [
    _op("AutoContrast", "ops_levels", "Stretch each channel to the full 0..255 range."),
    _op("Equalize", "ops_levels", "Histogram-equalize each channel."),
    _op("Invert", "ops_levels", "Invert pixel values (255 - x)."),
    _op("Rotate", "ops_geometric", "Rotate by ±30·m/10 degrees about the centre.", "geometric", "signed"),
    _op("Posterize", "ops_levels", "Keep int(4·m/10) high bits (0..4, fewer bits at low m)."),
    _op("PosterizeIncreasing", "ops_levels", "Keep 4 - int(4·m/10) high bits (stronger with m).", "increasing"),
    _op("PosterizeOriginal", "ops_levels", "Keep int(4·m/10) + 4 high bits (4..8, AutoAugment paper)."),
    _op("Solarize", "ops_levels", "Invert pixels at or above threshold min(256, int(256·m/10))."),
    _op("SolarizeIncreasing", "ops_levels", "Invert pixels at or above 256 - min(256, int(256·m/10)).",
        "increasing"),
    _op("SolarizeAdd", "ops_levels", "Add min(128, int(110·m/10)) to pixels below 128 (clipped at 255)."),
    _op("Color", "ops_enhance", "Saturation factor 1.8·m/10 + 0.1."),
    _op("ColorIncreasing", "ops_enhance", "Saturation factor max(0.1, 1 ± 0.9·m/10).", "increasing", "signed"),
    _op("Contrast", "ops_enhance", "Contrast factor 1.8·m/10 + 0.1."),
    _op("ContrastIncreasing", "ops_enhance", "Contrast factor max(0.1, 1 ± 0.9·m/10).", "increasing", "signed"),
    _op("Brightness", "ops_enhance", "Brightness factor 1.8·m/10 + 0.1."),
    _op("BrightnessIncreasing", "ops_enhance", "Brightness factor max(0.1, 1 ± 0.9·m/10).", "increasing",
        "signed"),
    _op("Sharpness", "ops_enhance", "Sharpness factor 1.8·m/10 + 0.1."),
    _op("SharpnessIncreasing", "ops_enhance", "Sharpness factor max(0.1, 1 ± 0.9·m/10).", "increasing",
        "signed"),
    _op("ShearX", "ops_geometric", "Horizontal shear ±0.3·m/10.", "geometric", "signed"),
    _op("ShearY", "ops_geometric", "Vertical shear ±0.3·m/10.", "geometric", "signed"),
    _op("TranslateX", "ops_geometric", "Shift ±translate_const·m/10 pixels horizontally.", "geometric", "signed"),
    _op("TranslateY", "ops_geometric", "Shift ±translate_const·m/10 pixels vertically.", "geometric", "signed"),
    _op("TranslateXRel", "ops_geometric", "Shift ±translate_pct·m/10 of the width.", "geometric", "signed"),
    _op("TranslateYRel", "ops_geometric", "Shift ±translate_pct·m/10 of the height.", "geometric", "signed"),
    _op("Desaturate", "ops_enhance", "Saturation factor clamp(1 - (0.5 + 0.5·m/10), 0, 1)."),
    _op("GaussianBlur", "ops_filter", "Gaussian blur of radius 0.1 + 1.9·m/10."),
    _op("GaussianBlurRand", "ops_filter", "Gaussian blur of radius uniform in [0.1, 2·m/10].", "stochastic"),
    _op("Cutout", "ops_filter", "Fill a square of side 2·int(cutout_const·m/10) at a random centre with img_mean.",
        "stochastic"),
]
