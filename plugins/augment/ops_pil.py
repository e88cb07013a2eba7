"""PIL implementations of the ops: ``fn(img, *args, resample=..., fill=...) -> Image``.

Modes: 'L', 'RGB' and 'RGBA'. Pixel ops on 'RGBA' act on the colour bands and keep alpha
unchanged; geometric ops move all bands and fill uncovered pixels with ``fill`` (alpha 255).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from pimm.core.errors import ConfigError

__all__ = ["PIL_OPS", "SUPPORTED_MODES", "pil_fill", "pil_resample"]

SUPPORTED_MODES = ("L", "RGB", "RGBA")

_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
}
_RANDOM_RESAMPLE = (Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)


def pil_resample(interpolation: str | None) -> Any:
    """The PIL filter for ``interpolation``; None draws bilinear or bicubic (Python ``random``)."""
    if interpolation is None:
        return random.choice(_RANDOM_RESAMPLE)
    return _RESAMPLE[interpolation]


def pil_fill(mode: str, img_mean: tuple[int, ...]) -> Any:
    """``img_mean`` adapted to ``mode``: luma for 'L', opaque alpha added for 'RGBA'."""
    if mode not in SUPPORTED_MODES:
        raise ConfigError(
            f"image mode {mode!r} is not supported by the augment ops; convert the image to one of "
            f"{', '.join(SUPPORTED_MODES)} first (e.g. img.convert('RGB'))"
        )
    mean = tuple(img_mean) if len(img_mean) >= 3 else tuple(img_mean[:1]) * 3
    if mode == "L":
        return int(round((mean[0] * 299 + mean[1] * 587 + mean[2] * 114) / 1000))
    rgb = tuple(int(v) for v in mean[:3])
    return rgb if mode == "RGB" else (*rgb, 255)


def _colour_only(fn: Callable[..., Image.Image]) -> Callable[..., Image.Image]:
    """Apply ``fn`` to the colour bands of RGBA images, keeping alpha as it is."""

    def wrapped(img: Image.Image, *args: Any, **kwargs: Any) -> Image.Image:
        if img.mode != "RGBA":
            return fn(img, *args, **kwargs)
        alpha = img.getchannel("A")
        out = fn(img.convert("RGB"), *args, **kwargs).convert("RGBA")
        out.putalpha(alpha)
        return out

    wrapped.__name__ = fn.__name__
    return wrapped


def _affine(img: Image.Image, matrix: tuple, resample: Any, fill: Any) -> Image.Image:
    return img.transform(img.size, Image.Transform.AFFINE, matrix, resample=resample, fillcolor=fill)


def rotate(img: Image.Image, degrees: float, resample: Any = None, fill: Any = None, **_: Any) -> Image.Image:
    """Rotate counter-clockwise by ``degrees`` about the centre."""
    return img.rotate(degrees, resample=resample, fillcolor=fill)


def shear_x(img: Image.Image, factor: float, resample: Any = None, fill: Any = None, **_: Any) -> Image.Image:
    """Horizontal shear: output (x, y) reads input (x + factor·y, y)."""
    return _affine(img, (1, factor, 0, 0, 1, 0), resample, fill)


def shear_y(img: Image.Image, factor: float, resample: Any = None, fill: Any = None, **_: Any) -> Image.Image:
    """Vertical shear: output (x, y) reads input (x, y + factor·x)."""
    return _affine(img, (1, 0, 0, factor, 1, 0), resample, fill)


def translate_x(img: Image.Image, pixels: float, resample: Any = None, fill: Any = None, **_: Any) -> Image.Image:
    """Output (x, y) reads input (x + pixels, y)."""
    return _affine(img, (1, 0, pixels, 0, 1, 0), resample, fill)


def translate_y(img: Image.Image, pixels: float, resample: Any = None, fill: Any = None, **_: Any) -> Image.Image:
    """Output (x, y) reads input (x, y + pixels)."""
    return _affine(img, (1, 0, 0, 0, 1, pixels), resample, fill)


def translate_x_rel(img: Image.Image, pct: float, **kw: Any) -> Image.Image:
    """Translate by ``pct`` of the width."""
    return translate_x(img, pct * img.size[0], **kw)


def translate_y_rel(img: Image.Image, pct: float, **kw: Any) -> Image.Image:
    """Translate by ``pct`` of the height."""
    return translate_y(img, pct * img.size[1], **kw)


@_colour_only
def auto_contrast(img: Image.Image, **_: Any) -> Image.Image:
    """Stretch each band to 0..255."""
    return ImageOps.autocontrast(img)


@_colour_only
def equalize(img: Image.Image, **_: Any) -> Image.Image:
    """Histogram-equalize each band."""
    return ImageOps.equalize(img)


@_colour_only
def invert(img: Image.Image, **_: Any) -> Image.Image:
    """255 - x."""
    return ImageOps.invert(img)


@_colour_only
def posterize(img: Image.Image, bits: int, **_: Any) -> Image.Image:
    """Keep the ``bits`` most significant bits (8 or more: unchanged; 0 or less: black)."""
    bits = int(bits)
    if bits >= 8:
        return img
    if bits <= 0:  # newer Pillow rejects 0 bits; keeping no bit gives black
        return img.point([0] * 256 * len(img.getbands()))
    return ImageOps.posterize(img, bits)


@_colour_only
def solarize(img: Image.Image, thresh: int, **_: Any) -> Image.Image:
    """Invert pixels at or above ``thresh``."""
    return ImageOps.solarize(img, int(thresh))


@_colour_only
def solarize_add(img: Image.Image, add: int, thresh: int = 128, **_: Any) -> Image.Image:
    """Add ``add`` to pixels below ``thresh``, clipping at 255."""
    add = int(add)
    lut = [min(255, i + add) if i < thresh else i for i in range(256)]
    return img.point(lut * len(img.getbands()))


def _enhance(cls: Any) -> Callable[..., Image.Image]:
    def fn(img: Image.Image, factor: float, **_: Any) -> Image.Image:
        return cls(img).enhance(float(factor))

    return fn


color = _enhance(ImageEnhance.Color)
contrast = _enhance(ImageEnhance.Contrast)
brightness = _enhance(ImageEnhance.Brightness)
sharpness = _enhance(ImageEnhance.Sharpness)


def desaturate(img: Image.Image, v: float, **_: Any) -> Image.Image:
    """Colour factor clamp(1 - v, 0, 1): v=1 is grayscale, v=0 unchanged."""
    return ImageEnhance.Color(img).enhance(min(1.0, max(0.0, 1.0 - float(v))))


def gaussian_blur(img: Image.Image, radius: float, **_: Any) -> Image.Image:
    """PIL Gaussian blur of ``radius``."""
    return img.filter(ImageFilter.GaussianBlur(radius=float(radius)))


def gaussian_blur_rand(img: Image.Image, f: float, **_: Any) -> Image.Image:
    """Gaussian blur of a radius drawn uniformly in [0.1, 2·f] (Python ``random``)."""
    return gaussian_blur(img, random.uniform(0.1, 2.0 * float(f)))


def cutout(img: Image.Image, half: int, fill: Any = None, **_: Any) -> Image.Image:
    """Fill a (2·half)-sided square centred at a random pixel (clipped to the image)."""
    half = int(half)
    if half <= 0:
        return img
    w, h = img.size
    cx, cy = random.randrange(w), random.randrange(h)
    x0, y0, x1, y1 = max(0, cx - half), max(0, cy - half), min(w, cx + half), min(h, cy + half)
    out = img.copy()
    if x1 > x0 and y1 > y0:
        ImageDraw.Draw(out).rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)
    return out


#: PIL function per builtin op name.
PIL_OPS: dict[str, Callable[..., Image.Image]] = {
    "AutoContrast": auto_contrast,
    "Equalize": equalize,
    "Invert": invert,
    "Rotate": rotate,
    "Posterize": posterize,
    "PosterizeIncreasing": posterize,
    "PosterizeOriginal": posterize,
    "Solarize": solarize,
    "SolarizeIncreasing": solarize,
    "SolarizeAdd": solarize_add,
    "Color": color,
    "ColorIncreasing": color,
    "Contrast": contrast,
    "ContrastIncreasing": contrast,
    "Brightness": brightness,
    "BrightnessIncreasing": brightness,
    "Sharpness": sharpness,
    "SharpnessIncreasing": sharpness,
    "ShearX": shear_x,
    "ShearY": shear_y,
    "TranslateX": translate_x,
    "TranslateY": translate_y,
    "TranslateXRel": translate_x_rel,
    "TranslateYRel": translate_y_rel,
    "Desaturate": desaturate,
    "GaussianBlur": gaussian_blur,
    "GaussianBlurRand": gaussian_blur_rand,
    "Cutout": cutout,
}
