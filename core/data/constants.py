"""Normalisation constants and eval-crop defaults shared by transforms and data configs.

The values are the usual dataset statistics (timm's names and numbers), so a model trained with
them is normalised the same way wherever it is used.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_CROP_PCT",
    "DEFAULT_CROP_MODE",
    "IMAGENET_DEFAULT_MEAN",
    "IMAGENET_DEFAULT_STD",
    "IMAGENET_INCEPTION_MEAN",
    "IMAGENET_INCEPTION_STD",
    "IMAGENET_DPN_MEAN",
    "IMAGENET_DPN_STD",
    "OPENAI_CLIP_MEAN",
    "OPENAI_CLIP_STD",
]

#: Fraction of the resized image kept by the eval centre crop (224 / 0.875 = 256).
DEFAULT_CROP_PCT: float = 0.875
#: Eval crop mode when none is configured.
DEFAULT_CROP_MODE: str = "center"

IMAGENET_DEFAULT_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_DEFAULT_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
IMAGENET_INCEPTION_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
IMAGENET_INCEPTION_STD: tuple[float, float, float] = (0.5, 0.5, 0.5)
IMAGENET_DPN_MEAN: tuple[float, float, float] = (124 / 255, 117 / 255, 104 / 255)
IMAGENET_DPN_STD: tuple[float, float, float] = (1 / (0.0167 * 255),) * 3  # type: ignore[assignment]
OPENAI_CLIP_MEAN: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
