"""Mix a batch in place pair by pair: sample ``i`` with sample ``B-1-i``.

Working on one pair at a time keeps the data in cache (two images instead of the whole batch plus
a reversed copy), which on the CPU is several times faster than whole-batch arithmetic. The loop
runs with one intra-op thread: its many small kernels gain nothing from threads, and on a busy
machine their barriers would cost far more than the work. Each sample has its own λ (1 =
untouched) and optional CutMix box; the partner's *original* pixels are used even when the partner
is mixed too. The middle sample of an odd batch is its own partner and is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch

__all__ = ["mix_pairs_", "mix_whole_batch_", "blend_float_", "blend_uint8_"]

Box = tuple[int, int, int, int]
Blend = Callable[[torch.Tensor, torch.Tensor, Any], None]


def blend_float_(dst: torch.Tensor, src: torch.Tensor, lam: Any) -> None:
    """``dst = λ·dst + (1-λ)·src`` in place (float tensors)."""
    dst.lerp_(src, float(1.0 - lam))


def blend_uint8_(dst: torch.Tensor, src: torch.Tensor, lam: Any) -> None:
    """``dst = round(λ·dst + (1-λ)·src)`` in place for uint8 tensors (float32 arithmetic, half to even)."""
    mixed = dst.float() * lam + src.float() * (1.0 - lam)
    dst.copy_(torch.round(mixed))


def _apply(dst: torch.Tensor, src: torch.Tensor, lam: Any, box: Box | None, blend: Blend) -> None:
    if box is None:
        blend(dst, src, lam)
    else:
        yl, yh, xl, xh = box
        dst[..., yl:yh, xl:xh] = src[..., yl:yh, xl:xh]


@contextmanager
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def mix_pairs_(x: torch.Tensor, lam: Any, boxes: Mapping[int, Box], blend: Blend) -> torch.Tensor:
    """Mix ``x`` (B, ...) in place: sample i takes λ_i of itself and 1-λ_i of the original B-1-i.

    ``lam`` is indexable by sample (λ = 1 leaves a sample untouched); ``boxes`` maps a sample to its
    CutMix box ``(y_low, y_high, x_low, x_high)``, pasted from the partner instead of blending.
    """
    with _one_thread():
        return _mix_pairs(x, lam, boxes, blend)


def _mix_pairs(x: torch.Tensor, lam: Any, boxes: Mapping[int, Box], blend: Blend) -> torch.Tensor:
    batch = x.shape[0]
    for i in range(batch // 2):
        j = batch - 1 - i
        mix_i, mix_j = lam[i] != 1.0, lam[j] != 1.0
        if not (mix_i or mix_j):
            continue
        keep_i = None
        if mix_j:  # j needs i's original pixels (only its box for CutMix)
            box_j = boxes.get(j)
            if box_j is None:
                keep_i = x[i].clone()
            else:
                yl, yh, xl, xh = box_j
                keep_i = x[i, ..., yl:yh, xl:xh].clone()
        if mix_i:
            _apply(x[i], x[j], lam[i], boxes.get(i), blend)
        if mix_j:
            box_j = boxes.get(j)
            if box_j is None:
                blend(x[j], keep_i, lam[j])
            else:
                yl, yh, xl, xh = box_j
                x[j, ..., yl:yh, xl:xh] = keep_i
    return x


def mix_whole_batch_(x: torch.Tensor, lam: Any, boxes: Mapping[int, Box]) -> torch.Tensor:
    """Same result as ``mix_pairs_(x, lam, boxes, blend_float_)`` with whole-batch kernels (float ``x``)."""
    partner = x.flip(0)  # a copy: the original partner of every sample
    rows = [i for i in range(x.shape[0]) if lam[i] != 1.0 and i not in boxes]
    if rows:
        index = torch.tensor(rows, device=x.device)
        weight = torch.tensor([float(1.0 - lam[i]) for i in rows], device=x.device, dtype=x.dtype)
        weight = weight.view(-1, *([1] * (x.ndim - 1)))
        x[index] = x[index].lerp_(partner[index], weight)
    for i, (yl, yh, xl, xh) in boxes.items():
        x[i, ..., yl:yh, xl:xh] = partner[i, ..., yl:yh, xl:xh]
    return x
