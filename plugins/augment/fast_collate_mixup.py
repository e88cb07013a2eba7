"""FastCollateMixup: Mixup/CutMix applied while collating uint8 images into a batch.

A ``collate_fn`` for a DataLoader whose dataset yields ``(uint8 CHW array or tensor, label)``:
the batch stays uint8 (blends are computed in float32 and rounded half-to-even), so images can
be normalised later on the GPU. Same pairing rule and modes as :class:`Mixup`; in ``half`` mode
only the first ``B // 2`` samples are mixed (each with sample ``B-1-i``) and returned, so the
output batch is half the input (a batch of one returns that sample unmixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import default_collate

from .mix_inputs import MixInputError
from .mix_pairs import blend_uint8_, mix_pairs_
from .mixup import Mixup
from .mixup_boxes import mixup_target

__all__ = ["FastCollateMixup"]


def _as_uint8_chw(img: Any) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(img)) if isinstance(img, np.ndarray) else img
    if not isinstance(tensor, torch.Tensor) or tensor.ndim != 3 or tensor.dtype != torch.uint8:
        got = f"{tensor.dtype} {tuple(tensor.shape)}" if isinstance(tensor, torch.Tensor) else type(img).__name__
        raise MixInputError(
            f"FastCollateMixup expects uint8 CHW images (use MaybePILToTensor / normalize=False), got {got}"
        )
    return tensor


class FastCollateMixup(Mixup):
    """Collate ``[(uint8 CHW image, label), ...]`` into ``(uint8 (N, C, H, W), (N, num_classes) targets)``."""

    def __call__(  # type: ignore[override]
        self, batch: Sequence[tuple[Any, Any]], _: Any = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stack, mix and return images and soft targets (on the CPU)."""
        if not isinstance(batch, Sequence) or len(batch) == 0:
            raise MixInputError(f"FastCollateMixup expects a non-empty list of (image, label) pairs, got {batch!r:.80}")
        x = torch.stack([_as_uint8_chw(sample[0]) for sample in batch])
        batch_size = x.shape[0]
        try:
            target = default_collate([sample[1] for sample in batch])
            if not isinstance(target, torch.Tensor):
                target = torch.as_tensor(target)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise MixInputError(f"FastCollateMixup cannot batch the labels: {exc}") from None
        target = self._targets(target, batch_size)
        if self.mode == "batch":
            lam: float | torch.Tensor = self._collate_batch(x)
            out_size = batch_size
        else:
            out_size = max(1, batch_size // 2) if self.mode == "half" else batch_size
            lam_np, boxes = self.plan_elements(
                batch_size, x.shape, paired=self.mode == "pair", count=out_size if self.mode == "half" else None
            )
            self._collate_elements(x, lam_np, boxes, out_size)
            lam = torch.from_numpy(lam_np).unsqueeze(1)
        soft = mixup_target(target, self.num_classes, lam, self.label_smoothing, self.multi_label)
        return x[:out_size], soft[:out_size]

    def _collate_batch(self, x: torch.Tensor) -> float:
        lam, use_cutmix = self._draw_lam()
        if lam == 1.0:
            return 1.0
        if use_cutmix:
            (yl, yh, xl, xh), lam = self._box(x.shape, lam)
            x[..., yl:yh, xl:xh] = x[..., yl:yh, xl:xh].flip(0)
        else:
            mix_pairs_(x, [lam] * x.shape[0], {}, blend_uint8_)
        return lam

    @staticmethod
    def _collate_elements(x: torch.Tensor, lam: np.ndarray, boxes: dict, out_size: int) -> None:
        if out_size < x.shape[0]:  # 'half': the dropped second half is never mixed
            lam = lam.copy()
            lam[out_size:] = 1.0
        mix_pairs_(x, lam, boxes, blend_uint8_)
