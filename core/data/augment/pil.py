"""PIL helpers of the op contract: the image modes ops accept, fill colours and resampling filters."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from PIL import Image

from ...errors import ConfigError

__all__ = ["SUPPORTED_MODES", "pil_fill", "pil_resample", "pil_colour_only"]

#: Image modes every op handles ('L', 'RGB' and 'RGBA').
SUPPORTED_MODES = ("L", "RGB", "RGBA")

_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
}
# 'random' resampling draws one of these two with Python ``random.choice`` (timm's order and draw)
_RANDOM_FILTERS = (Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)


def pil_resample(interpolation: str | None) -> Any:
    """The PIL filter for ``interpolation``; None draws bilinear or bicubic (Python ``random``)."""
    if interpolation is None:
        return random.choice(_RANDOM_FILTERS)
    try:
        return _FILTERS[interpolation]
    except KeyError:
        raise ConfigError(
            f"unknown op interpolation {interpolation!r}: use one of {', '.join(_FILTERS)} or None (random)"
        ) from None


def pil_fill(mode: str, img_mean: tuple[int, ...]) -> Any:
    """``img_mean`` as a fill colour for ``mode``: luma for 'L', opaque alpha added for 'RGBA'."""
    if mode not in SUPPORTED_MODES:
        raise ConfigError(
            f"image mode {mode!r} is not supported by the augment ops; convert the image to one of "
            f"{', '.join(SUPPORTED_MODES)} first (e.g. img.convert('RGB'))"
        )
    rgb = tuple(int(v) for v in (img_mean if len(img_mean) >= 3 else tuple(img_mean[:1]) * 3)[:3])
    if mode == "L":
        return int(round((rgb[0] * 299 + rgb[1] * 587 + rgb[2] * 114) / 1000))
    return rgb if mode == "RGB" else (*rgb, 255)


def pil_colour_only(fn: Callable[..., Image.Image]) -> Callable[..., Image.Image]:
    """Wrap a PIL function so that on 'RGBA' it sees the RGB bands only and alpha is kept as it is."""

    def on_colour(img: Image.Image, *args: Any, **kwargs: Any) -> Image.Image:
        if img.mode != "RGBA":
            return fn(img, *args, **kwargs)
        alpha = img.getchannel("A")
        out = fn(img.convert("RGB"), *args, **kwargs).convert("RGBA")
        out.putalpha(alpha)
        return out

    on_colour.__name__ = getattr(fn, "__name__", "on_colour")
    on_colour.__doc__ = fn.__doc__
    return on_colour
