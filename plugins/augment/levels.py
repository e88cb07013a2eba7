"""Magnitude → op argument mappings (timm's numbers), shared by the PIL and tensor paths.

Every function takes ``f = magnitude / 10`` and ``sign`` (+1 or -1; only the signed ops use it)
and returns the op's argument tuple. They work on Python floats (one image) and on 1-D tensors
(one value per sample of a batch) alike, so both paths use the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["LEVEL_DENOM", "LEVELS", "SIGNED", "level_args"]

#: Magnitude that maps to the op's full strength.
LEVEL_DENOM = 10.0


def _trunc(v: Any) -> Any:
    return int(v) if isinstance(v, (int, float)) else v.trunc()


def _min(v: Any, hi: float) -> Any:
    return min(v, hi) if isinstance(v, (int, float)) else v.clamp(max=hi)


def _max(v: Any, lo: float) -> Any:
    return max(v, lo) if isinstance(v, (int, float)) else v.clamp(min=lo)


def _clamp(v: Any, lo: float, hi: float) -> Any:
    return _max(_min(v, hi), lo)


def _rotate(f: Any, sign: Any, hp: Any) -> tuple:
    return (f * 30.0 * sign,)


def _shear(f: Any, sign: Any, hp: Any) -> tuple:
    return (f * 0.3 * sign,)


def _translate_abs(f: Any, sign: Any, hp: Any) -> tuple:
    return (f * float(hp.translate_const) * sign,)


def _translate_rel(f: Any, sign: Any, hp: Any) -> tuple:
    return (f * float(hp.translate_pct) * sign,)


def _posterize(f: Any, sign: Any, hp: Any) -> tuple:
    return (_trunc(f * 4),)


def _posterize_increasing(f: Any, sign: Any, hp: Any) -> tuple:
    return (4 - _trunc(f * 4),)


def _posterize_original(f: Any, sign: Any, hp: Any) -> tuple:
    return (_trunc(f * 4) + 4,)


def _solarize(f: Any, sign: Any, hp: Any) -> tuple:
    return (_min(_trunc(f * 256), 256),)


def _solarize_increasing(f: Any, sign: Any, hp: Any) -> tuple:
    return (256 - _min(_trunc(f * 256), 256),)


def _solarize_add(f: Any, sign: Any, hp: Any) -> tuple:
    return (_min(_trunc(f * 110), 128),)


def _enhance(f: Any, sign: Any, hp: Any) -> tuple:
    return (f * 1.8 + 0.1,)


def _enhance_increasing(f: Any, sign: Any, hp: Any) -> tuple:
    return (_max(1.0 + f * 0.9 * sign, 0.1),)


def _desaturate(f: Any, sign: Any, hp: Any) -> tuple:
    return (_clamp(0.5 + 0.5 * f, 0.5, 1.0),)


def _blur(f: Any, sign: Any, hp: Any) -> tuple:
    return (_clamp(0.1 + 1.9 * f, 0.1, 2.0),)


def _blur_rand(f: Any, sign: Any, hp: Any) -> tuple:
    return (_clamp(f, 0.0, 1.0),)


def _cutout(f: Any, sign: Any, hp: Any) -> tuple:
    return (_trunc(f * hp.cutout_const),)


def _none(f: Any, sign: Any, hp: Any) -> tuple:
    return ()


#: Level function per builtin op name.
LEVELS: dict[str, Callable[[Any, Any, Any], tuple]] = {
    "AutoContrast": _none,
    "Equalize": _none,
    "Invert": _none,
    "Rotate": _rotate,
    "Posterize": _posterize,
    "PosterizeIncreasing": _posterize_increasing,
    "PosterizeOriginal": _posterize_original,
    "Solarize": _solarize,
    "SolarizeIncreasing": _solarize_increasing,
    "SolarizeAdd": _solarize_add,
    "Color": _enhance,
    "ColorIncreasing": _enhance_increasing,
    "Contrast": _enhance,
    "ContrastIncreasing": _enhance_increasing,
    "Brightness": _enhance,
    "BrightnessIncreasing": _enhance_increasing,
    "Sharpness": _enhance,
    "SharpnessIncreasing": _enhance_increasing,
    "ShearX": _shear,
    "ShearY": _shear,
    "TranslateX": _translate_abs,
    "TranslateY": _translate_abs,
    "TranslateXRel": _translate_rel,
    "TranslateYRel": _translate_rel,
    "Desaturate": _desaturate,
    "GaussianBlur": _blur,
    "GaussianBlurRand": _blur_rand,
    "Cutout": _cutout,
}

#: Ops whose argument gets a random sign (50/50 per call).
SIGNED: frozenset[str] = frozenset(
    {
        "Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY", "TranslateXRel", "TranslateYRel",
        "ColorIncreasing", "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing",
    }
)


def level_args(name: str, magnitude: Any, sign: Any = 1.0, hparams: Any = None) -> tuple:
    """The argument tuple of builtin op ``name`` at ``magnitude`` (0..10 scale) with ``sign``."""
    from .op_specs import OpHParams

    hp = hparams if hparams is not None else OpHParams()
    return LEVELS[name](magnitude / LEVEL_DENOM, sign, hp)
