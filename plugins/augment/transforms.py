"""Geometric image transforms of the train and eval pipelines (PIL images and CHW/NCHW tensors).

``RandomResizedCropAndInterpolation`` is the training crop (timm's algorithm, Python ``random``);
``ResizeKeepRatio``, ``CenterCropOrPad`` and ``RandomCropOrPad`` serve the eval crop modes and the
'rkrc'/'rkrr' training crops; ``TrimBorder`` cuts a fixed border. Resizing itself is done by
torchvision's functional ops, so PIL images and tensors are both accepted.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import torchvision.transforms.functional as F
from PIL import Image

from pimm.core.data.deferred_image import DeferredImage, dct_reduction
from pimm.core.errors import ConfigError

from .interpolation import (
    RANDOM_INTERPOLATIONS,
    check_interpolation,
    interp_mode_to_str,
    str_to_interp_mode,
    str_to_pil_interp,
)
from .tensor_convert import MaybePILToTensor, MaybeToTensor, ToTensor  # re-exported: timm's transforms module has them

__all__ = [
    "RandomResizedCropAndInterpolation",
    "ResizeKeepRatio",
    "CenterCropOrPad",
    "RandomCropOrPad",
    "TrimBorder",
    "ReducedDecode",
    "center_crop_or_pad",
    "crop_or_pad",
    "to_size_pair",
    "MaybeToTensor",
    "MaybePILToTensor",
    "ToTensor",
]


def to_size_pair(size: int | Sequence[int], what: str = "size") -> tuple[int, int]:
    """``(height, width)`` from an int or a 1- or 2-sequence; positive ints only."""
    if isinstance(size, int) and not isinstance(size, bool):
        pair = (size, size)
    elif isinstance(size, Sequence) and len(size) in (1, 2):
        pair = (int(size[0]), int(size[-1]))
    else:
        raise ConfigError(f"{what} must be an int or an (height, width) pair, got {size!r}")
    if min(pair) <= 0:
        raise ConfigError(f"{what} must be positive, got {size!r}")
    return pair


def _range_pair(value: Sequence[float], what: str, positive: bool = False) -> tuple[float, float]:
    if not isinstance(value, Sequence) or len(value) != 2:
        raise ConfigError(f"{what} must be a (min, max) pair, got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if lo > hi:
        raise ConfigError(f"{what} must be ordered (min, max), got {value!r}")
    if lo < 0 or (positive and lo <= 0):
        raise ConfigError(f"{what} must be {'positive' if positive else 'non-negative'}, got {value!r}")
    return lo, hi


def _interpolation_modes(interpolation: str) -> Any:
    """A torchvision mode, or the tuple of modes 'random' picks from."""
    check_interpolation(interpolation)
    if interpolation == "random":
        return RANDOM_INTERPOLATIONS
    return str_to_interp_mode(interpolation)


def _interpolation_repr(modes: Any) -> str:
    if isinstance(modes, tuple):
        return " ".join(interp_mode_to_str(m) for m in modes)
    return interp_mode_to_str(modes)


def _pick(modes: Any) -> Any:
    return random.choice(modes) if isinstance(modes, tuple) else modes


def _height_width(img: Any) -> tuple[int, int]:
    if isinstance(img, DeferredImage):
        return img.height, img.width
    _, height, width = F.get_dimensions(img)
    return height, width


def _draw_crop_box(
    img_h: int, img_w: int, scale: Sequence[float], ratio: Sequence[float], attempts: int = 10
) -> tuple[int, int, int, int] | None:
    """A random box covering a fraction of the area drawn from ``scale`` with a log-uniform aspect
    ratio from ``ratio``, placed uniformly; None when no draw fits within ``attempts``.

    The Python ``random`` draws come in this order, a fact kept so seeded crops equal timm's and
    torchvision's: per attempt the area fraction, then the log-aspect; once a box fits, its top
    offset, then its left offset.
    """
    total = img_h * img_w
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(attempts):
        area = total * random.uniform(scale[0], scale[1])
        aspect = math.exp(random.uniform(log_lo, log_hi))
        width, height = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < width <= img_w and 0 < height <= img_h:
            return random.randint(0, img_h - height), random.randint(0, img_w - width), height, width
    return None


def _central_box(img_h: int, img_w: int, ratio: Sequence[float]) -> tuple[int, int, int, int]:
    """The whole image, narrowed to the nearest aspect ratio inside ``ratio``, centred (at least 1x1)."""
    lo, hi = min(ratio), max(ratio)
    height, width = img_h, img_w
    if img_w / img_h < lo:  # too tall: keep the width, shorten the height
        height = round(img_w / lo)
    elif img_w / img_h > hi:  # too wide: keep the height, narrow the width
        width = round(img_h * hi)
    height, width = max(1, height), max(1, width)
    return (img_h - height) // 2, (img_w - width) // 2, height, width


class RandomResizedCropAndInterpolation:
    """Crop a random area and aspect ratio of the image, then resize it to ``size``.

    The crop covers a fraction of the image area drawn from ``scale`` with an aspect ratio drawn
    log-uniformly from ``ratio``; after 10 rejected draws a central crop clamped to the ratio range
    is used. ``interpolation='random'`` picks bilinear or bicubic on every call.

    With ``reduced_decode`` (the default) the crop accepts a not yet decoded JPEG from the dataset
    (:class:`~pimm.core.data.deferred_image.DeferredImage`): the crop is drawn on the full-size
    geometry (the same random draws as for a decoded image), and when it shrinks by 2x or more the
    JPEG is decoded at 1/2, 1/4 or 1/8 size (the largest that keeps the crop at least ``size``)
    with the crop box mapped exactly onto the reduced image. Decoded images and tensors take the
    ordinary path, bit-identical to timm's.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
        interpolation: str = "bilinear",
        reduced_decode: bool = True,
    ) -> None:
        self.size = to_size_pair(size)
        self.scale = _range_pair(scale, "scale")
        self.ratio = _range_pair(ratio, "ratio", positive=True)
        self.interpolation = _interpolation_modes(interpolation)
        self.reduced_decode = bool(reduced_decode)

    @property
    def accepts_deferred_image(self) -> bool:
        """True when the dataset may hand this crop an undecoded JPEG (``reduced_decode``)."""
        return self.reduced_decode

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float]) -> tuple[int, int, int, int]:
        """Draw ``(top, left, height, width)`` of a crop of ``img`` (Python ``random``)."""
        img_h, img_w = _height_width(img)
        box = _draw_crop_box(img_h, img_w, scale, ratio)
        return box if box is not None else _central_box(img_h, img_w, ratio)

    def __call__(self, img: Any) -> Any:
        """Crop and resize ``img`` (PIL image or tensor)."""
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        mode = _pick(self.interpolation)
        factor = 1
        if isinstance(img, DeferredImage):
            img, factor = img.decode(dct_reduction(w, h, self.size[1], self.size[0]))
        if isinstance(img, Image.Image):  # what torchvision does for PIL, without its dispatch overhead
            resample = str_to_pil_interp(interp_mode_to_str(mode))
            if factor > 1:  # full-size pixel edge x lies at x / factor on the reduced image
                box = (left / factor, top / factor, (left + w) / factor, (top + h) / factor)
                return img.resize((self.size[1], self.size[0]), resample, box=box)
            crop = img.crop((left, top, left + w, top + h))
            return crop.resize((self.size[1], self.size[0]), resample)
        return F.resized_crop(img, top, left, h, w, list(self.size), mode)

    def __repr__(self) -> str:
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (
            f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
            f"interpolation={_interpolation_repr(self.interpolation)})"
        )


class ReducedDecode:
    """Decode a deferred JPEG at the largest 1/2, 1/4 or 1/8 size whose edges all stay at least
    ``max(size)`` (the resize that follows then still only shrinks); anything else passes through.

    The opt-in first step of the eval pipeline (``create_transform(..., fast_decode=True)``): the
    resize that follows starts from a smaller image, so its pixels differ slightly from a
    full-size decode (no longer identical to timm's). Decoded images and tensors are untouched.
    """

    accepts_deferred_image = True

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = to_size_pair(size)

    def __call__(self, img: Any) -> Any:
        """The decoded image (reduced when ``img`` is a deferred JPEG big enough), else ``img``."""
        if not isinstance(img, DeferredImage):
            return img
        edge = max(self.size)
        decoded, _ = img.decode(dct_reduction(img.width, img.height, edge, edge))
        return decoded

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class ResizeKeepRatio:
    """Resize keeping the aspect ratio so the image fits ``size`` by a mix of its edges.

    ``longest=0`` scales so both edges are at least the target (cover), ``longest=1`` so both are at
    most the target (fit inside). Optional random scale (``random_scale_area``: the factor is an
    area factor, as in RandomResizedCrop) and random aspect jitter.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        longest: float = 0.0,
        interpolation: str = "bilinear",
        random_scale_prob: float = 0.0,
        random_scale_range: Sequence[float] = (0.85, 1.05),
        random_scale_area: bool = False,
        random_aspect_prob: float = 0.0,
        random_aspect_range: Sequence[float] = (0.9, 1.11),
    ) -> None:
        self.size = to_size_pair(size)
        if not 0.0 <= longest <= 1.0:
            raise ConfigError(f"longest must be in [0, 1], got {longest!r}")
        self.longest = float(longest)
        self.interpolation = _interpolation_modes(interpolation)
        self.random_scale_prob = float(random_scale_prob)
        self.random_scale_range = _range_pair(random_scale_range, "random_scale_range", positive=True)
        self.random_scale_area = bool(random_scale_area)
        self.random_aspect_prob = float(random_aspect_prob)
        self.random_aspect_range = _range_pair(random_aspect_range, "random_aspect_range", positive=True)

    def get_params(self, img: Any) -> list[int]:
        """Output ``[height, width]`` for ``img``, including the random factors."""
        img_h, img_w = _height_width(img)
        ratio_h, ratio_w = img_h / self.size[0], img_w / self.size[1]
        ratio = max(ratio_h, ratio_w) * self.longest + min(ratio_h, ratio_w) * (1.0 - self.longest)
        factor_h = factor_w = 1.0
        if self.random_scale_prob > 0 and random.random() < self.random_scale_prob:
            factor = random.uniform(*self.random_scale_range)
            if self.random_scale_area:
                factor = 1.0 / math.sqrt(factor)
            factor_h = factor_w = factor
        if self.random_aspect_prob > 0 and random.random() < self.random_aspect_prob:
            lo, hi = (math.log(v) for v in self.random_aspect_range)
            aspect = math.sqrt(math.exp(random.uniform(lo, hi)))
            factor_h, factor_w = factor_h / aspect, factor_w * aspect
        return [round(img_h * factor_h / ratio), round(img_w * factor_w / ratio)]

    def __call__(self, img: Any) -> Any:
        """Resize ``img`` (PIL image or tensor)."""
        size = self.get_params(img)
        return F.resize(img, size, _pick(self.interpolation))

    def __repr__(self) -> str:
        lo, hi = self.random_scale_range
        alo, ahi = self.random_aspect_range
        return (
            f"{type(self).__name__}(size={self.size}, interpolation={_interpolation_repr(self.interpolation)}, "
            f"longest={self.longest:.3f}, random_scale_prob={self.random_scale_prob:.3f}, "
            f"random_scale_range=({lo:.3f}, {hi:.3f}), random_aspect_prob={self.random_aspect_prob:.3f}, "
            f"random_aspect_range=({alo:.3f}, {ahi:.3f}))"
        )


def _fill_arg(fill: int | float | Sequence[int]) -> Any:
    return tuple(int(v) for v in fill) if isinstance(fill, Sequence) else fill


def crop_or_pad(
    img: Any,
    top: int,
    left: int,
    height: int,
    width: int,
    fill: int | float | Sequence[int] = 0,
    padding_mode: str = "constant",
) -> Any:
    """Crop the box ``(top, left, height, width)``, padding where it reaches outside the image."""
    img_h, img_w = _height_width(img)
    pad_l, pad_t = max(0, -left), max(0, -top)
    pad_r, pad_b = max(0, left + width - img_w), max(0, top + height - img_h)
    if pad_l or pad_t or pad_r or pad_b:
        img = F.pad(img, [pad_l, pad_t, pad_r, pad_b], fill=_fill_arg(fill), padding_mode=padding_mode)
    return F.crop(img, top + pad_t, left + pad_l, height, width)


def center_crop_or_pad(
    img: Any, size: int | Sequence[int], fill: int | float | Sequence[int] = 0, padding_mode: str = "constant"
) -> Any:
    """Centre-crop ``img`` to ``size``; a side shorter than the target is padded first, the missing
    pixels split between both edges (the odd one at the bottom / right)."""
    out_h, out_w = to_size_pair(size)
    img_h, img_w = _height_width(img)
    missing_h, missing_w = max(0, out_h - img_h), max(0, out_w - img_w)
    if missing_h or missing_w:
        before_h, before_w = missing_h // 2, missing_w // 2
        padding = [before_w, before_h, missing_w - before_w, missing_h - before_h]  # left, top, right, bottom
        img = F.pad(img, padding, fill=_fill_arg(fill), padding_mode=padding_mode)
        img_h, img_w = _height_width(img)
        if (img_h, img_w) == (out_h, out_w):
            return img
    return F.crop(img, int(round((img_h - out_h) / 2.0)), int(round((img_w - out_w) / 2.0)), out_h, out_w)


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _check_padding_mode(mode: str) -> str:
    if mode not in _PADDING_MODES:
        raise ConfigError(f"unknown padding_mode {mode!r}: use one of {', '.join(_PADDING_MODES)}")
    return mode


class CenterCropOrPad:
    """Centre crop to ``size``; an image smaller than ``size`` is padded (``fill``, ``padding_mode``)."""

    def __init__(
        self, size: int | Sequence[int], fill: int | Sequence[int] = 0, padding_mode: str = "constant"
    ) -> None:
        self.size = to_size_pair(size)
        self.fill = fill
        self.padding_mode = _check_padding_mode(padding_mode)

    def __call__(self, img: Any) -> Any:
        """Crop (and pad) ``img``."""
        return center_crop_or_pad(img, self.size, fill=self.fill, padding_mode=self.padding_mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class RandomCropOrPad:
    """Random crop to ``size``; where the image is smaller, the crop offset reaches into padding."""

    def __init__(
        self, size: int | Sequence[int], fill: int | Sequence[int] = 0, padding_mode: str = "constant"
    ) -> None:
        self.size = to_size_pair(size)
        self.fill = fill
        self.padding_mode = _check_padding_mode(padding_mode)

    @staticmethod
    def get_params(img: Any, size: tuple[int, int]) -> tuple[int, int]:
        """Draw ``(top, left)``; negative offsets mean padding before the image."""
        img_h, img_w = _height_width(img)
        dh, dw = img_h - size[0], img_w - size[1]
        top = int(math.copysign(random.randint(0, abs(dh)), dh))
        left = int(math.copysign(random.randint(0, abs(dw)), dw))
        return top, left

    def __call__(self, img: Any) -> Any:
        """Crop (and pad) ``img``."""
        top, left = self.get_params(img, self.size)
        return crop_or_pad(img, top, left, *self.size, fill=self.fill, padding_mode=self.padding_mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class TrimBorder:
    """Cut ``border_size`` pixels from every edge (never below 1 pixel per side)."""

    def __init__(self, border_size: int) -> None:
        if border_size < 0:
            raise ConfigError(f"border_size must be >= 0, got {border_size!r}")
        self.border_size = int(border_size)

    def __call__(self, img: Any) -> Any:
        """Trim ``img``."""
        img_h, img_w = _height_width(img)
        top = left = self.border_size
        top, left = min(img_h, top), min(img_w, left)
        height = max(1, img_h - 2 * top)
        width = max(1, img_w - 2 * left)
        return F.crop(img, top, left, height, width)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(border_size={self.border_size})"
