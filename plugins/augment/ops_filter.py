"""The filter ops: GaussianBlur, GaussianBlurRand and Cutout (they act on every channel).

Each class holds its level mapping, its PIL behaviour and its tensor behaviour. The blur follows
PIL's gaussian approximation (three extended-box passes per axis) so both paths agree; the random
ops (GaussianBlurRand's radius, Cutout's centre) draw with Python ``random`` on the PIL path and
torch's CPU generator on the tensor path.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

from pimm.core.data.augment import TensorCtx

from .op_base import BuiltinOp, clamp, trunc

__all__ = ["GaussianBlur", "GaussianBlurRand", "Cutout", "box_blur_radius", "blur_batch"]


def box_blur_radius(radius: torch.Tensor, passes: int = 3) -> torch.Tensor:
    """Extended-box radius whose ``passes`` repetitions approximate a gaussian of ``radius`` (PIL's rule)."""
    sigma2 = radius.double() ** 2 / passes
    big = torch.sqrt(12.0 * sigma2 + 1.0)
    small = torch.floor((big - 1.0) / 2.0)
    frac = (2 * small + 1) * (small * (small + 1) - 3 * sigma2) / (6 * (sigma2 - (small + 1) ** 2))
    return small + frac


def _box_pass(x: torch.Tensor, radius: float, dim: int, exact: bool) -> torch.Tensor:
    """One extended-box pass along ``dim`` of one sample (C, H, W), edges replicated: weight 1 within
    the integer radius, the fraction at one more pixel, over 2·radius + 1 (running sums)."""
    whole = int(math.floor(radius))
    frac = radius - whole
    pad = whole + 1
    size = x.shape[dim]
    pads = (pad, pad, 0, 0) if dim == 2 else (0, 0, pad, pad)
    padded = F.pad(x.unsqueeze(0), pads, mode="replicate")[0]
    zero = torch.zeros_like(padded.narrow(dim, 0, 1))
    csum = torch.cat((zero, torch.cumsum(padded, dim)), dim)
    window = csum.narrow(dim, 2 * whole + 2, size) - csum.narrow(dim, 1, size)
    if frac > 0:
        window = window + frac * (padded.narrow(dim, 0, size) + padded.narrow(dim, 2 * whole + 2, size))
    out = window / (2.0 * radius + 1.0)
    return torch.floor(out + 0.5) if exact else out


def blur_batch(x: torch.Tensor, radius: torch.Tensor, exact: bool) -> torch.Tensor:
    """PIL-style gaussian blur of each sample by its ``radius``: three extended-box passes per axis,
    edges replicated."""
    radii = box_blur_radius(radius.clamp(min=0)).tolist()
    out = torch.empty_like(x)
    for i, radius in enumerate(radii):
        sample = x[i]
        for dim in (2, 1):
            for _ in range(3):
                sample = _box_pass(sample, radius, dim, exact)
        out[i] = sample
    return out


class GaussianBlur(BuiltinOp):
    """Gaussian blur of radius 0.1 + 1.9·m/10."""

    name = "GaussianBlur"
    colour_only = False

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (clamp(0.1 + 1.9 * f, 0.1, 2.0),)

    def apply_pil(self, img: Image.Image, radius: float, resample: Any = None, fill: Any = None) -> Image.Image:
        return img.filter(ImageFilter.GaussianBlur(radius=float(radius)))

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        return blur_batch(x, args[0], ctx.exact)


class GaussianBlurRand(GaussianBlur):
    """Gaussian blur of a radius drawn uniformly in [0.1, 2·m/10] on every call."""

    name = "GaussianBlurRand"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (clamp(f, 0.0, 1.0),)

    def apply_pil(self, img: Image.Image, f: float, resample: Any = None, fill: Any = None) -> Image.Image:
        return super().apply_pil(img, random.uniform(0.1, 2.0 * float(f)))

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        f = args[0].float().cpu()
        radius = 0.1 + torch.rand(f.shape[0]) * (2.0 * f - 0.1)
        return blur_batch(x, radius.to(x.device), ctx.exact)


class Cutout(BuiltinOp):
    """Fill a square of side 2·int(cutout_const·m/10) at a random centre with ``img_mean``."""

    name = "Cutout"
    colour_only = False

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (trunc(f * self.hparams.cutout_const),)

    def apply_pil(self, img: Image.Image, half: int, resample: Any = None, fill: Any = None) -> Image.Image:
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

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        n, c, h, w = x.shape
        cx = torch.randint(0, w, (n,)).to(x.device)
        cy = torch.randint(0, h, (n,)).to(x.device)
        half = torch.as_tensor(args[0]).to(x.device).long().view(-1)
        xs = torch.arange(w, device=x.device).view(1, 1, w)
        ys = torch.arange(h, device=x.device).view(1, h, 1)
        inx = (xs >= (cx - half).view(n, 1, 1)) & (xs < (cx + half).view(n, 1, 1))
        iny = (ys >= (cy - half).view(n, 1, 1)) & (ys < (cy + half).view(n, 1, 1))
        fill = ctx.fill.to(x.device, torch.float32).view(1, c, 1, 1)
        return torch.where((inx & iny).unsqueeze(1), fill, x)
