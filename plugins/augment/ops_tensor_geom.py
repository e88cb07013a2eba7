"""Tensor implementations of the geometric ops, blur and Cutout, batched with per-sample arguments.

Same calling convention as :mod:`ops_tensor` (``fn(x, args, ctx)``, ``x`` float32 (N, C, H, W) on
the 0..255 scale). Geometric ops follow PIL's affine convention: output pixel centre (x+½, y+½)
reads the input at ``A·(x+½, y+½, 1)``; input points outside the image get ``ctx.fill`` (a hard
edge, as in PIL) and samples near the edge use clamped neighbours. Bilinear and nearest go through
``grid_sample``; bicubic uses PIL's cubic (a = -1) on the 4x4 neighbours; translations resample
1-D slices. They act on every channel (alpha included: the caller premultiplies RGBA).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .ops_tensor import TensorCtx

__all__ = ["GEOMETRIC_OPS", "OTHER_OPS", "affine", "box_blur_radius"]


def affine(x: torch.Tensor, matrix: torch.Tensor, ctx: TensorCtx) -> torch.Tensor:
    """Warp each sample with its PIL-style (a, b, c, d, e, f) matrix (``matrix``: (N, 6))."""
    n, c, h, w = x.shape
    m = matrix.to(device=x.device, dtype=torch.float32)
    # normalised input coordinate = 2 * (A · pixel centre) / size - 1, built from (N,1,W) + (N,H,1) parts
    xs = (torch.arange(w, device=x.device, dtype=torch.float32) + 0.5).view(1, 1, w)
    ys = (torch.arange(h, device=x.device, dtype=torch.float32) + 0.5).view(1, h, 1)
    col = [m[:, i].view(n, 1, 1) for i in range(6)]
    grid = torch.empty(n, h, w, 2, device=x.device, dtype=torch.float32)
    torch.add((col[0] * xs + col[2]) * (2.0 / w) - 1.0, col[1] * ys * (2.0 / w), out=grid[..., 0])
    torch.add(col[3] * xs * (2.0 / h), (col[4] * ys + col[5]) * (2.0 / h) - 1.0, out=grid[..., 1])
    gx, gy = grid[..., 0], grid[..., 1]
    outside = (gx < -1.0).logical_or_(gx >= 1.0).logical_or_(gy < -1.0).logical_or_(gy >= 1.0)
    modes = ctx.modes or ["bilinear"] * n
    out = None
    for mode in sorted(set(modes)):
        if len(set(modes)) == 1:
            out = _sample(x, grid, mode, ctx.exact)
            break
        sel = torch.tensor([mm == mode for mm in modes], device=x.device)
        part = _sample(x[sel], grid[sel], mode, ctx.exact)
        if out is None:
            out = torch.empty_like(x)
        out[sel] = part
    out = out.clamp_(0, 255)
    for ch, value in enumerate(ctx.fill.tolist()):
        out[:, ch].masked_fill_(outside, value)
    return out


def _sample(x: torch.Tensor, grid: torch.Tensor, mode: str, exact: bool) -> torch.Tensor:
    """Resample at normalised ``grid`` points, edges clamped: bilinear and nearest through
    ``grid_sample`` (bilinear truncated like PIL when exact), bicubic with PIL's a = -1 cubic."""
    if mode == "bicubic":
        return _bicubic(x, grid, exact)
    out = F.grid_sample(x, grid, mode=mode, padding_mode="border", align_corners=False)
    return out.floor_() if exact and mode == "bilinear" else out


def _bicubic(x: torch.Tensor, grid: torch.Tensor, exact: bool) -> torch.Tensor:
    """PIL's bicubic resampling: 4x4 neighbours (clamped to the image), weights of the a = -1 cubic,
    clipped and truncated to 8-bit levels when exact."""
    n, c, h, w = x.shape
    sx = (grid[..., 0] + 1.0) * (w / 2.0) - 0.5
    sy = (grid[..., 1] + 1.0) * (h / 2.0) - 0.5
    x0, y0 = torch.floor(sx), torch.floor(sy)
    wx = _cubic_weights_tensor(sx - x0)
    wy = _cubic_weights_tensor(sy - y0)
    x0, y0 = x0.to(torch.int64), y0.to(torch.int64)
    flat = x.reshape(n, c, h * w)
    out = torch.zeros(n, c, h, w, device=x.device, dtype=x.dtype)
    for j, off_y in enumerate((-1, 0, 1, 2)):
        rows = (y0 + off_y).clamp_(0, h - 1) * w
        line = torch.zeros_like(out)
        for i, off_x in enumerate((-1, 0, 1, 2)):
            idx = (rows + (x0 + off_x).clamp_(0, w - 1)).view(n, 1, h * w).expand(n, c, h * w)
            line += wx[i].unsqueeze(1) * torch.gather(flat, 2, idx).view(n, c, h, w)
        out += wy[j].unsqueeze(1) * line
    out = out.clamp_(0, 255)
    return out.floor_() if exact else out


def premultiply(x: torch.Tensor, exact: bool) -> torch.Tensor:
    """RGBA → RGBa: colour times alpha/255 (PIL's rounding when exact), as PIL does before resampling."""
    rgb, alpha = x[:, :3], x[:, 3:]
    prod = rgb * alpha
    if exact:
        prod = torch.floor((prod + 128 + torch.floor((prod + 128) / 256)) / 256)
    else:
        prod = prod / 255.0
    return torch.cat((prod, alpha), dim=1)


def unpremultiply(x: torch.Tensor, exact: bool) -> torch.Tensor:
    """RGBa → RGBA: colour times 255/alpha (truncated and clipped when exact); alpha 0 or 255 as is."""
    rgb, alpha = x[:, :3], x[:, 3:]
    scaled = rgb * 255.0 / alpha.clamp(min=1e-6)
    scaled = torch.floor(scaled).clamp_(0, 255) if exact else scaled.clamp_(0, 255)
    keep = (alpha <= 0) | (alpha >= 255)
    return torch.cat((torch.where(keep, rgb, scaled), alpha), dim=1)


def _ones_matrix(n: int, device: torch.device) -> torch.Tensor:
    m = torch.zeros(n, 6, device=device)
    m[:, 0] = 1.0
    m[:, 4] = 1.0
    return m


def rotate(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Rotate counter-clockwise by the per-sample degrees about the centre."""
    n, _, h, w = x.shape
    angle = -args[0].double() * (math.pi / 180.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    cx, cy = w / 2.0, h / 2.0
    m = torch.stack((cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy), dim=1)
    return affine(x, m.float(), ctx)


def _cubic_weights(frac: float) -> list[float]:
    """Bicubic weights of PIL's geometric transforms (cubic convolution with a = -1) for taps at
    offsets -1, 0, 1, 2 from the floor sample."""
    a = -1.0

    def kernel(d: float) -> float:
        d = abs(d)
        if d < 1.0:
            return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0
        if d < 2.0:
            return (((d - 5.0) * d + 8.0) * d - 4.0) * a
        return 0.0

    return [kernel(frac + 1.0), kernel(frac), kernel(1.0 - frac), kernel(2.0 - frac)]


def _shift(x: torch.Tensor, shifts: torch.Tensor, dim: int, ctx: TensorCtx) -> torch.Tensor:
    """Translate along ``dim`` (3: x, 2: y): output centre i+½ reads input i+½+t (PIL's rule), one
    1-D resampling per sample on slices of an edge-padded copy: linear (truncated when exact),
    PIL's cubic (a = -1, truncated when exact) or nearest; outside the image: ``ctx.fill``."""
    n, c = x.shape[:2]
    size = x.shape[dim]
    fill = ctx.fill.to(x.device, torch.float32).view(c, 1, 1)
    out = fill.expand(n, *x.shape[1:]).clone()
    pad = (2, 2, 0, 0) if dim == 3 else (0, 0, 2, 2)
    padded = F.pad(x, pad, mode="replicate")
    modes = ctx.modes or ["bilinear"] * n
    for i, t in enumerate(shifts.tolist()):
        lo = max(0, math.ceil(-t - 0.5))  # first output index whose source centre is inside
        hi = min(size, math.ceil(size - t - 0.5))
        if hi <= lo:
            continue
        base = math.floor(t)
        frac = t - base

        def tap(offset: int) -> torch.Tensor:
            start = lo + base + offset + 2
            return padded[i].narrow(dim - 1, start, hi - lo)

        if modes[i] == "nearest":
            res = tap(math.floor(t + 0.5) - base)
        elif modes[i] == "bicubic":
            res = sum(wt * tap(off) for wt, off in zip(_cubic_weights(frac), (-1, 0, 1, 2)))
            res = res.clamp_(0, 255)
            res = res.floor_() if ctx.exact else res
        else:
            res = torch.lerp(tap(0), tap(1), frac)
            res = res.floor_() if ctx.exact else res
        out[i].narrow(dim - 1, lo, hi - lo).copy_(res)
    return out


def _cubic_weights_tensor(frac: torch.Tensor) -> list[torch.Tensor]:
    """:func:`_cubic_weights` for a tensor of fractions."""
    a = -1.0

    def near(d: torch.Tensor) -> torch.Tensor:
        return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0

    def far(d: torch.Tensor) -> torch.Tensor:
        return (((d - 5.0) * d + 8.0) * d - 4.0) * a

    return [far(frac + 1.0), near(frac), near(1.0 - frac), far(2.0 - frac)]


def _shear(x: torch.Tensor, k: torch.Tensor, slot: int, ctx: TensorCtx) -> torch.Tensor:
    m = _ones_matrix(x.shape[0], x.device)
    m[:, slot] = k.to(m)
    return affine(x, m, ctx)


def shear_x(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Output (x, y) reads input (x + k·y, y)."""
    return _shear(x, args[0], 1, ctx)


def shear_y(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Output (x, y) reads input (x, y + k·x)."""
    return _shear(x, args[0], 3, ctx)


def translate_x(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Output (x, y) reads input (x + t, y), t in pixels."""
    return _shift(x, args[0], 3, ctx)


def translate_y(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Output (x, y) reads input (x, y + t), t in pixels."""
    return _shift(x, args[0], 2, ctx)


def translate_x_rel(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Translate by a fraction of the width."""
    return translate_x(x, (args[0] * x.shape[3],), ctx)


def translate_y_rel(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Translate by a fraction of the height."""
    return translate_y(x, (args[0] * x.shape[2],), ctx)


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


def gaussian_blur(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """PIL-style gaussian blur: three extended-box passes per axis with edge replication."""
    radii = box_blur_radius(args[0].clamp(min=0)).tolist()
    out = torch.empty_like(x)
    for i, radius in enumerate(radii):
        sample = x[i]
        for dim in (2, 1):
            for _ in range(3):
                sample = _box_pass(sample, radius, dim, ctx.exact)
        out[i] = sample
    return out


def gaussian_blur_rand(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Blur with a radius drawn per sample uniformly in [0.1, 2·f]."""
    f = args[0].float().cpu()
    radius = 0.1 + torch.rand(f.shape[0]) * (2.0 * f - 0.1)
    return gaussian_blur(x, (radius.to(x.device),), ctx)


def cutout(x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
    """Fill a square of side 2·half at a random centre per sample with ``ctx.fill``."""
    n, c, h, w = x.shape
    cx = torch.randint(0, w, (n,)).to(x.device)
    cy = torch.randint(0, h, (n,)).to(x.device)
    half = args[0].to(x.device).long()
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    inx = (xs >= (cx - half).view(n, 1, 1)) & (xs < (cx + half).view(n, 1, 1))
    iny = (ys >= (cy - half).view(n, 1, 1)) & (ys < (cy + half).view(n, 1, 1))
    mask = (inx & iny).unsqueeze(1)
    fill = ctx.fill.to(x.device, torch.float32).view(1, c, 1, 1)
    return torch.where(mask, fill, x)


#: Geometric ops (they use ctx.modes and ctx.fill).
GEOMETRIC_OPS = {
    "Rotate": rotate,
    "ShearX": shear_x,
    "ShearY": shear_y,
    "TranslateX": translate_x,
    "TranslateY": translate_y,
    "TranslateXRel": translate_x_rel,
    "TranslateYRel": translate_y_rel,
}

#: Other ops that act on all channels.
OTHER_OPS = {
    "GaussianBlur": gaussian_blur,
    "GaussianBlurRand": gaussian_blur_rand,
    "Cutout": cutout,
}
