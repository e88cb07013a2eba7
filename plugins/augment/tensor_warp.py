"""Batched resampling for the geometric ops: affine warps and 1-D shifts with PIL's conventions.

Working batches are float32 (N, C, H, W) on the 0..255 scale. PIL's affine convention: output pixel
centre (x+½, y+½) reads the input at ``A·(x+½, y+½, 1)``; input points outside the image get
``ctx.fill`` (a hard edge, as in PIL) and samples near the edge use clamped neighbours. Bilinear
and nearest go through ``grid_sample``; bicubic uses PIL's cubic (a = -1) on the 4x4 neighbours;
translations resample 1-D slices. Every channel is resampled (alpha included: the caller
premultiplies RGBA).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from pimm.core.data.augment import TensorCtx

__all__ = ["affine", "shift", "identity_matrices", "premultiply", "unpremultiply"]


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


def _cubic_weights_tensor(frac: torch.Tensor) -> list[torch.Tensor]:
    """:func:`_cubic_weights` for a tensor of fractions."""
    a = -1.0

    def near(d: torch.Tensor) -> torch.Tensor:
        return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0

    def far(d: torch.Tensor) -> torch.Tensor:
        return (((d - 5.0) * d + 8.0) * d - 4.0) * a

    return [far(frac + 1.0), near(frac), near(1.0 - frac), far(2.0 - frac)]


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


def identity_matrices(n: int, device: torch.device) -> torch.Tensor:
    """(N, 6) PIL-style identity matrices (1, 0, 0, 0, 1, 0)."""
    m = torch.zeros(n, 6, device=device)
    m[:, 0] = 1.0
    m[:, 4] = 1.0
    return m


def shift(x: torch.Tensor, shifts: torch.Tensor, dim: int, ctx: TensorCtx) -> torch.Tensor:
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
