"""The ops defined on 8-bit levels: AutoContrast, Equalize, Invert, Posterize, Solarize, SolarizeAdd.

Each class holds its level mapping (timm's numbers), its PIL behaviour (``ImageOps`` / lookup
tables, colour bands only: alpha of RGBA is kept) and its tensor behaviour, which works on 8-bit
levels through integer arithmetic or per-(sample, channel) lookup tables. With uint8 input the
tensor path runs on the uint8 samples themselves (``uint8_native``: no float round trip), so it
equals the PIL path exactly; float input is rounded to levels where the op is defined on them.
"""

from __future__ import annotations

from typing import Any

import torch
from PIL import Image, ImageOps

from pimm.core.data.augment import TensorCtx, pil_colour_only

from .op_base import BuiltinOp, at_most, trunc

__all__ = [
    "AutoContrast", "Equalize", "Invert", "Posterize", "PosterizeIncreasing", "PosterizeOriginal",
    "Solarize", "SolarizeIncreasing", "SolarizeAdd",
]


def _col(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, 1, 1, 1).to(torch.float32)


def _levels(x: torch.Tensor, exact: bool = False) -> torch.Tensor:
    """8-bit levels; exact-mode input already holds them."""
    return x if exact else x.round().clamp(0, 255)


def _flat_levels(x: torch.Tensor, exact: bool) -> torch.Tensor:
    """int32 level + 256·(sample, channel) row offset, flattened: indexes a stacked (rows·256) table."""
    n, c, h, w = x.shape
    rows = torch.arange(n * c, device=x.device, dtype=torch.int32).view(n, c, 1, 1) * 256
    return (_levels(x, exact).to(torch.int32) + rows).reshape(-1)


def _apply_lut(flat: torch.Tensor, lut: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Map levels through per-(sample, channel) tables ``lut`` (N, C, 256), given ``_flat_levels``;
    the result has ``like``'s shape and dtype (uint8 tables stay uint8: no float round trip)."""
    return lut.to(like.dtype).reshape(-1).index_select(0, flat).view(like.shape)


def _table(x: torch.Tensor) -> torch.Tensor:
    """The 256 levels as a float64 row, on x's device."""
    return torch.arange(256, device=x.device, dtype=torch.float64)


class LevelOp(BuiltinOp):
    """An op on 8-bit levels: colour bands only, runs on uint8 batches directly."""

    uint8_native = True


@pil_colour_only
def _autocontrast(img: Image.Image) -> Image.Image:
    return ImageOps.autocontrast(img)


@pil_colour_only
def _equalize(img: Image.Image) -> Image.Image:
    return ImageOps.equalize(img)


@pil_colour_only
def _invert(img: Image.Image) -> Image.Image:
    return ImageOps.invert(img)


@pil_colour_only
def _posterize(img: Image.Image, bits: int) -> Image.Image:
    bits = int(bits)
    if bits >= 8:
        return img
    if bits <= 0:  # newer Pillow rejects 0 bits; keeping no bit gives black
        return img.point([0] * 256 * len(img.getbands()))
    return ImageOps.posterize(img, bits)


@pil_colour_only
def _solarize(img: Image.Image, thresh: int) -> Image.Image:
    return ImageOps.solarize(img, int(thresh))


@pil_colour_only
def _solarize_add(img: Image.Image, add: int, thresh: int = 128) -> Image.Image:
    add = int(add)
    lut = [min(255, i + add) if i < thresh else i for i in range(256)]
    return img.point(lut * len(img.getbands()))


class AutoContrast(LevelOp):
    """Stretch each channel's [min, max] to [0, 255]."""

    name = "AutoContrast"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return ()

    def apply_pil(self, img: Image.Image, *args: Any, resample: Any = None, fill: Any = None) -> Image.Image:
        return _autocontrast(img)

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """Stretch each channel's [min, max] to [0, 255] (PIL's truncating table)."""
        v = _levels(x, ctx.exact)
        lo = v.amin(dim=(2, 3)).double()
        hi = v.amax(dim=(2, 3)).double()
        scale = 255.0 / (hi - lo).clamp(min=1)
        levels = _table(x)
        lut = (levels * scale[..., None] - (lo * scale)[..., None]).trunc().clamp(0, 255)
        lut = torch.where((hi > lo)[..., None], lut, levels.expand_as(lut))
        return _apply_lut(_flat_levels(v, True), lut, x)


class Equalize(LevelOp):
    """Histogram-equalize each channel."""

    name = "Equalize"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return ()

    def apply_pil(self, img: Image.Image, *args: Any, resample: Any = None, fill: Any = None) -> Image.Image:
        return _equalize(img)

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """Histogram-equalize each channel (PIL's table: cumulative counts over the step)."""
        n, c, h, w = x.shape
        rows = n * c
        flat = _flat_levels(x, ctx.exact)
        hist = torch.bincount(flat, minlength=rows * 256).view(rows, 256)
        present = hist > 0
        last = 255 - present.flip(1).to(torch.int64).argmax(dim=1, keepdim=True)
        step = (h * w - hist.gather(1, last)) // 255  # (rows, 1)
        cum = torch.cumsum(hist, dim=1) - hist  # exclusive cumulative count
        safe = step.clamp(min=1)
        lut = ((safe // 2 + cum) // safe).clamp(max=255)
        keep = (present.sum(dim=1, keepdim=True) <= 1) | (step == 0)
        levels = torch.arange(256, device=x.device).expand(rows, 256)
        lut = torch.where(keep, levels, lut)
        return _apply_lut(flat, lut, x)


class Invert(LevelOp):
    """255 - x."""

    name = "Invert"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return ()

    def apply_pil(self, img: Image.Image, *args: Any, resample: Any = None, fill: Any = None) -> Image.Image:
        return _invert(img)

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """255 - x."""
        if x.dtype == torch.uint8:
            return x.bitwise_not_()
        return x.neg_().add_(255.0)


class Posterize(LevelOp):
    """Keep int(4·m/10) high bits (0..4: fewer bits, i.e. stronger, at low m)."""

    name = "Posterize"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (trunc(f * 4),)

    def apply_pil(self, img: Image.Image, bits: int, resample: Any = None, fill: Any = None) -> Image.Image:
        return _posterize(img, bits)

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """Keep ``bits`` high bits per sample (8 or more: unchanged; 0: black)."""
        if x.dtype == torch.uint8:  # bits are whole numbers (the level mapping truncates)
            shift = 8 - args[0].clamp(0, 8).to(device=x.device, dtype=torch.int32)
            mask = (torch.full_like(shift, 255) << shift) & 255
            return x.bitwise_and_(mask.to(torch.uint8).view(-1, 1, 1, 1))
        step = _col(torch.pow(2.0, 8 - args[0].clamp(0, 8)))
        v = x if ctx.exact else _levels(x)
        return v.div_(step).floor_().mul_(step)


class PosterizeIncreasing(Posterize):
    """Keep 4 - int(4·m/10) high bits (stronger with m)."""

    name = "PosterizeIncreasing"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (4 - trunc(f * 4),)


class PosterizeOriginal(Posterize):
    """Keep int(4·m/10) + 4 high bits (4..8, the AutoAugment paper's mapping)."""

    name = "PosterizeOriginal"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (trunc(f * 4) + 4,)


class Solarize(LevelOp):
    """Invert levels at or above threshold min(256, int(256·m/10))."""

    name = "Solarize"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (at_most(trunc(f * 256), 256),)

    def apply_pil(self, img: Image.Image, thresh: int, resample: Any = None, fill: Any = None) -> Image.Image:
        return _solarize(img, thresh)

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """Invert levels at or above the per-sample threshold."""
        levels = _table(x).view(1, 1, 256)
        lut = torch.where(levels >= _col(args[0]).double().view(-1, 1, 1), 255.0 - levels, levels)
        return _apply_lut(_flat_levels(x, ctx.exact), lut.expand(x.shape[0], x.shape[1], 256), x)


class SolarizeIncreasing(Solarize):
    """Invert levels at or above 256 - min(256, int(256·m/10)) (stronger with m)."""

    name = "SolarizeIncreasing"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (256 - at_most(trunc(f * 256), 256),)


class SolarizeAdd(LevelOp):
    """Add min(128, int(110·m/10)) to levels below 128, clipped at 255."""

    name = "SolarizeAdd"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (at_most(trunc(f * 110), 128),)

    def apply_pil(self, img: Image.Image, add: int, resample: Any = None, fill: Any = None) -> Image.Image:
        return _solarize_add(img, add)

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """Add the per-sample amount to levels below 128, clipped at 255."""
        levels = _table(x).view(1, 1, 256)
        added = (levels + args[0].double().view(-1, 1, 1)).clamp(max=255)
        lut = torch.where(levels < 128, added, levels)
        return _apply_lut(_flat_levels(x, ctx.exact), lut.expand(x.shape[0], x.shape[1], 256), x)
