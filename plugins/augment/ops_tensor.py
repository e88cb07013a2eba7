"""Tensor implementations of the pixel (non-geometric) ops, batched with one argument per sample.

Every function is ``fn(x, args, ctx) -> Tensor`` where ``x`` is float32 ``(N, C, H, W)`` holding
values on the 0..255 scale, ``args`` is the op's argument tuple with one value per sample (1-D
tensors on ``x.device``) and ``ctx`` a :class:`TensorCtx`. With ``ctx.exact`` (uint8 input) the
integer arithmetic of PIL is reproduced (luma rounding, blend truncation, lookup tables), so the
results equal the PIL path; float input is processed without intermediate quantisation except
where an op is defined on 8-bit levels (posterize, solarize, equalize, autocontrast).

Channels: these functions see the colour channels only. For 4-channel input the caller passes
the first three (RGB) and keeps the fourth (alpha) unchanged. Grayscale of C channels: ITU-R
601 luma for C=3, the channel itself for C=1, the channel mean for any other count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["TensorCtx", "PIXEL_OPS", "UINT8_NATIVE", "grayscale", "blend"]


@dataclass
class TensorCtx:
    """What a tensor op needs besides its arguments."""

    fill: torch.Tensor  # (C,) fill values on the 0..255 scale
    exact: bool = True  # emulate PIL's 8-bit integer arithmetic (uint8 input)
    modes: list[str] = field(default_factory=list)  # per-sample resampling for geometric ops


def _col(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, 1, 1, 1).to(torch.float32)


def grayscale(x: torch.Tensor, exact: bool) -> torch.Tensor:
    """(N, 1, H, W) gray image: ITU-R 601 luma for 3 channels (PIL's rounding when exact)."""
    c = x.shape[1]
    if c == 3:
        if exact:  # integer luma; every intermediate is an integer below 2**24, so float32 is exact
            acc = x[:, 0:1] * 19595.0
            acc.add_(x[:, 1:2], alpha=38470.0).add_(x[:, 2:3], alpha=7471.0).add_(32768.0)
            return acc.div_(65536.0).floor_()
        acc = x[:, 0:1] * 0.299
        return acc.add_(x[:, 1:2], alpha=0.587).add_(x[:, 2:3], alpha=0.114)
    if c == 1:
        return x.clone()
    return x.mean(dim=1, keepdim=True)


def blend(degenerate: torch.Tensor, x: torch.Tensor, factor: torch.Tensor, exact: bool) -> torch.Tensor:
    """degenerate + factor·(x - degenerate), clipped to 0..255 (truncated like PIL when exact).

    Works in place on ``x`` (the ops own their working tensor).
    """
    out = x.sub_(degenerate).mul_(_col(factor)).add_(degenerate).clamp_(0, 255)
    return out.floor_() if exact else out


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


def invert(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """255 - x."""
    if x.dtype == torch.uint8:
        return x.bitwise_not_()
    return x.neg_().add_(255.0)


def posterize(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Keep ``bits`` high bits per sample (8 or more: unchanged; 0: black)."""
    if x.dtype == torch.uint8:  # bits are whole numbers (the level mapping truncates)
        shift = 8 - args[0].clamp(0, 8).to(device=x.device, dtype=torch.int32)
        mask = (torch.full_like(shift, 255) << shift) & 255
        return x.bitwise_and_(mask.to(torch.uint8).view(-1, 1, 1, 1))
    step = _col(torch.pow(2.0, 8 - args[0].clamp(0, 8)))
    v = x if ctx.exact else _levels(x)
    return v.div_(step).floor_().mul_(step)


def solarize(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Invert levels at or above the per-sample threshold."""
    levels = _table(x).view(1, 1, 256)
    lut = torch.where(levels >= _col(args[0]).double().view(-1, 1, 1), 255.0 - levels, levels)
    return _apply_lut(_flat_levels(x, ctx.exact), lut.expand(x.shape[0], x.shape[1], 256), x)


def solarize_add(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Add the per-sample amount to levels below 128, clipped at 255."""
    levels = _table(x).view(1, 1, 256)
    added = (levels + args[0].double().view(-1, 1, 1)).clamp(max=255)
    lut = torch.where(levels < 128, added, levels)
    return _apply_lut(_flat_levels(x, ctx.exact), lut.expand(x.shape[0], x.shape[1], 256), x)


def auto_contrast(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Stretch each channel's [min, max] to [0, 255] (PIL's truncating table)."""
    v = _levels(x, ctx.exact)
    lo = v.amin(dim=(2, 3)).double()
    hi = v.amax(dim=(2, 3)).double()
    scale = 255.0 / (hi - lo).clamp(min=1)
    levels = _table(x)
    lut = (levels * scale[..., None] - (lo * scale)[..., None]).trunc().clamp(0, 255)
    lut = torch.where((hi > lo)[..., None], lut, levels.expand_as(lut))
    return _apply_lut(_flat_levels(v, True), lut, x)


def equalize(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
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


def color(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Blend with the grayscale image by the per-sample factor."""
    return blend(grayscale(x, ctx.exact), x, args[0], ctx.exact)


def desaturate(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Colour factor clamp(1 - v, 0, 1)."""
    return color(x, ((1.0 - args[0]).clamp(0.0, 1.0),), ctx)


def contrast(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Blend with the image's mean gray level by the per-sample factor."""
    mean = grayscale(x, ctx.exact).mean(dim=(1, 2, 3), keepdim=True)
    if ctx.exact:
        mean = torch.floor(mean + 0.5)
    return blend(mean, x, args[0], ctx.exact)


def brightness(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Scale by the per-sample factor (blend with black)."""
    out = x.mul_(_col(args[0])).clamp_(0, 255)  # a blend with black
    return out.floor_() if ctx.exact else out


def smooth(x: torch.Tensor, exact: bool) -> torch.Tensor:
    """PIL's SMOOTH 3x3 filter (all ones, centre 5, over 13); the one-pixel border is left as it is."""
    h, w = x.shape[-2:]
    if h < 3 or w < 3:
        return x
    rows = x[..., :-2, :] + x[..., 1:-1, :] + x[..., 2:, :]
    box = rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]
    inner = box.add_(x[..., 1:-1, 1:-1], alpha=4.0).div_(13.0)
    if exact:
        inner = inner.add_(0.5).floor_()
    out = x.clone()
    out[..., 1:-1, 1:-1] = inner
    return out


def sharpness(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Blend with the smoothed image by the per-sample factor (>1 sharpens)."""
    return blend(smooth(x, ctx.exact), x, args[0], ctx.exact)


#: Pixel ops whose function also takes a uint8 batch (8-bit levels) and returns uint8, computing
#: in integers or through lookup tables: with uint8 input they skip the float working format.
UINT8_NATIVE = frozenset({
    "AutoContrast", "Equalize", "Invert", "Posterize", "PosterizeIncreasing", "PosterizeOriginal",
    "Solarize", "SolarizeIncreasing", "SolarizeAdd",
})

#: Tensor function per builtin pixel op name.
PIXEL_OPS = {
    "AutoContrast": auto_contrast,
    "Equalize": equalize,
    "Invert": invert,
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
    "Desaturate": desaturate,
}
