"""Mixup/CutMix helpers: soft targets and CutMix boxes.

Boxes and λ values are drawn with numpy's global generator (so ``np.random.seed`` reproduces a
run); targets are built on the device of the labels given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["one_hot", "mixup_target", "rand_bbox", "rand_bbox_minmax", "cutmix_bbox_and_lam"]

Box = tuple[int, int, int, int]


def one_hot(x: torch.Tensor, num_classes: int, on_value: float = 1.0, off_value: float = 0.0) -> torch.Tensor:
    """(B, num_classes) float tensor with ``on_value`` at each label and ``off_value`` elsewhere."""
    index = x.long().view(-1, 1)
    out = torch.full((index.shape[0], num_classes), off_value, device=x.device)
    return out.scatter_(1, index, on_value)


def mixup_target(
    target: torch.Tensor,
    num_classes: int,
    lam: float | torch.Tensor = 1.0,
    smoothing: float = 0.0,
    multi_label: bool = False,
) -> torch.Tensor:
    """Smoothed targets mixed with the reversed batch: ``y·λ + y.flip(0)·(1-λ)``.

    Single-label targets become one-hot with ``1 - smoothing + smoothing/C`` on and
    ``smoothing/C`` off; dense multi-label targets (B, C) become ``y·(1-s) + 0.5·s``. ``lam`` is a
    scalar or a (B, 1) column.
    """
    if multi_label:
        if target.ndim != 2 or target.shape[1] != num_classes:
            raise ValueError(
                f"multi-label mixup expects dense targets of shape (batch, {num_classes}), got {tuple(target.shape)}"
            )
        y1 = target.float() * (1.0 - smoothing) + 0.5 * smoothing
    else:
        off_value = smoothing / num_classes
        y1 = one_hot(target, num_classes, on_value=1.0 - smoothing + off_value, off_value=off_value)
    return y1 * lam + y1.flip(0) * (1.0 - lam)


def rand_bbox(img_shape: Sequence[int], lam: float) -> Box:
    """A box of area ≈ ``(1-λ)·H·W`` with a uniformly drawn centre, clipped to the image.

    Returns ``(y_low, y_high, x_low, x_high)``.
    """
    ratio = np.sqrt(1.0 - lam)
    img_h, img_w = int(img_shape[-2]), int(img_shape[-1])
    cut_h, cut_w = int(img_h * ratio), int(img_w * ratio)
    cy = int(np.random.randint(0, img_h))
    cx = int(np.random.randint(0, img_w))
    yl = min(max(cy - cut_h // 2, 0), img_h)
    yh = min(max(cy + (cut_h + 1) // 2, 0), img_h)
    xl = min(max(cx - cut_w // 2, 0), img_w)
    xh = min(max(cx + (cut_w + 1) // 2, 0), img_w)
    return yl, yh, xl, xh


def rand_bbox_minmax(img_shape: Sequence[int], minmax: Sequence[float]) -> Box:
    """A box whose height and width are uniform in ``[min, max)`` of the image's, fully inside it."""
    img_h, img_w = int(img_shape[-2]), int(img_shape[-1])
    lo_h, hi_h = int(img_h * minmax[0]), int(img_h * minmax[1])
    lo_w, hi_w = int(img_w * minmax[0]), int(img_w * minmax[1])
    cut_h = int(np.random.randint(lo_h, hi_h)) if hi_h > lo_h else lo_h
    cut_w = int(np.random.randint(lo_w, hi_w)) if hi_w > lo_w else lo_w
    yl = int(np.random.randint(0, img_h - cut_h + 1))
    xl = int(np.random.randint(0, img_w - cut_w + 1))
    return yl, yl + cut_h, xl, xl + cut_w


def cutmix_bbox_and_lam(
    img_shape: Sequence[int],
    lam: float,
    ratio_minmax: Sequence[float] | None = None,
    correct_lam: bool = True,
) -> tuple[Box, float]:
    """Draw a CutMix box for ``lam``; return it with λ corrected to ``1 - box_area / image_area``.

    The correction always applies with ``ratio_minmax`` (the box does not depend on λ there), and
    otherwise when ``correct_lam`` is set (the box may have been clipped at the border).
    """
    if ratio_minmax is not None:
        box = rand_bbox_minmax(img_shape, ratio_minmax)
    else:
        box = rand_bbox(img_shape, lam)
    if correct_lam or ratio_minmax is not None:
        yl, yh, xl, xh = box
        lam = 1.0 - (yh - yl) * (xh - xl) / float(img_shape[-2] * img_shape[-1])
    return box, float(lam)
