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
    The row dot products and norms are reductions over ``p`` and ``grad`` (norms leave no
    full-size temporary behind).

    ``caution`` (spherical cautious update): on a projected tensor the update is masked where it
    disagrees in sign with the gradient's tangential part ``g - p̂(p̂·g)``, then projected again
    so it stays tangential; otherwise it is masked against ``g`` itself.
    """
    rows = p.shape[0]
    p2 = p.reshape(rows, -1)
    g2 = grad.reshape(rows, -1)
    gp = torch.linalg.vecdot(g2, p2, dim=1)
    gn = torch.linalg.vector_norm(g2, dim=1)  # a reduction: no product temporary, unlike vecdot(g, g)
    pn = torch.linalg.vector_norm(p2, dim=1)
    layer = (gp.sum(0, keepdim=True), gn.square().sum(0, keepdim=True).sqrt_(),
             pn.square().sum(0, keepdim=True).sqrt_(), p.numel())
    for row_gp, row_gn, row_pn, row_len in ((gp, gn, pn, p2.shape[1]), layer):
        g_norm = row_gn.clamp(min=eps)
        p_norm = row_pn
        cosine = row_gp.abs() / (g_norm * p_norm.clamp(min=eps))
        if float(cosine.max()) < delta / math.sqrt(row_len):
            n = row_gp.shape[0]
            pu = torch.linalg.vecdot(p.reshape(n, -1), update.reshape(n, -1), dim=1)
            row_shape = (n,) + (1,) * (p.dim() - 1)
            sq = (p_norm + eps).square_()
            update.addcmul_(p, (pu / sq).reshape(row_shape), value=-1.0)  # one pass, no temporary
            if caution:
                _mask_(update, grad - p * (row_gp / sq).reshape(row_shape))
                pu = torch.linalg.vecdot(p.reshape(n, -1), update.reshape(n, -1), dim=1)
                update.addcmul_(p, (pu / sq).reshape(row_shape), value=-1.0)
            return wd_ratio
    if caution:
        _mask_(update, grad)
    return 1.0
