"""The AdamP/SGDP projection: remove the radial component of an update for scale-invariant weights."""

from __future__ import annotations

import math

import torch

__all__ = ["project"]


def _mask_(update: torch.Tensor, direction: torch.Tensor) -> None:
    keep = (update * direction > 0).to(update.dtype)
    update.mul_(keep.div_(keep.mean().clamp_(min=1e-3)))


def project(p: torch.Tensor, grad: torch.Tensor, update: torch.Tensor, delta: float, wd_ratio: float,
            eps: float, caution: bool = False) -> float:
    """Project ``update`` in place when ``p`` looks scale invariant; return the weight-decay scale.

    The channel view (one row per output channel) is tried first, then the layer view (one row):
    if every row's |cos(grad, p)| is below ``delta/sqrt(row_length)``, the component of ``update``
    along ``p̂ = p/(||p_row|| + eps)`` is removed row by row and ``wd_ratio`` is returned; else 1.
    All needed dot products come from one pass over ``p`` and ``grad``.

    ``caution`` (spherical cautious update): on a projected tensor the update is masked where it
    disagrees in sign with the gradient's tangential part ``g - p̂(p̂·g)``, then projected again
    so it stays tangential; otherwise it is masked against ``g`` itself.
    """
    rows = p.shape[0]
    p2 = p.reshape(rows, -1)
    g2 = grad.reshape(rows, -1)
    gp = torch.linalg.vecdot(g2, p2, dim=1)
    gg = torch.linalg.vecdot(g2, g2, dim=1)
    pp = torch.linalg.vecdot(p2, p2, dim=1)
    for row_gp, row_gg, row_pp, row_len in ((gp, gg, pp, p2.shape[1]),
                                            (gp.sum(0, keepdim=True), gg.sum(0, keepdim=True),
                                             pp.sum(0, keepdim=True), p.numel())):
        g_norm = row_gg.sqrt().clamp_(min=eps)
        p_norm = row_pp.sqrt()
        cosine = row_gp.abs() / (g_norm * p_norm.clamp(min=eps))
        if float(cosine.max()) < delta / math.sqrt(row_len):
            n = row_gp.shape[0]
            pu = torch.linalg.vecdot(p.reshape(n, -1), update.reshape(n, -1), dim=1)
            row_shape = (n,) + (1,) * (p.dim() - 1)
            sq = (p_norm + eps).square_()
            update.sub_(p * (pu / sq).reshape(row_shape))
            if caution:
                _mask_(update, grad - p * (row_gp / sq).reshape(row_shape))
                pu = torch.linalg.vecdot(p.reshape(n, -1), update.reshape(n, -1), dim=1)
                update.sub_(p * (pu / sq).reshape(row_shape))
            return wd_ratio
    if caution:
        _mask_(update, grad)
    return 1.0
