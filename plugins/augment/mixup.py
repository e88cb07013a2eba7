"""Mixup and CutMix on batches of image tensors, with smoothed soft targets.

Pairing rule: sample ``i`` is mixed with sample ``B-1-i`` (the batch reversed), never a random
permutation. For an odd batch the middle sample is its own partner, so it is left unmixed
(λ = 1, target = its own smoothed one-hot); a batch of one is therefore returned unmixed with a
smoothed target. Modes:

- ``batch``: one λ (and one CutMix box) for the whole batch;
- ``pair``: one λ per pair (i, B-1-i), applied symmetrically to both members;
- ``elem``: one λ per sample; sample i is mixed with the *original* sample B-1-i;
- ``half``: same as ``batch`` here (it only changes ``FastCollateMixup``).

Work happens on the input's device (pair by pair on the CPU, whole-batch on accelerators); λ and
boxes come from numpy's global generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from pimm.core.errors import ConfigError

from .mix_pairs import blend_float_, mix_pairs_, mix_whole_batch_
from .mixup_boxes import Box, cutmix_bbox_and_lam, mixup_target

__all__ = ["Mixup", "MIXUP_MODES"]

#: The accepted ``mode`` values.
MIXUP_MODES: tuple[str, ...] = ("batch", "pair", "elem", "half")


def _check_prob(value: float, what: str) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"Mixup {what} must be in [0, 1], got {value!r}")
    return float(value)


class Mixup:
    """Mix a batch ``(x, target)`` by Mixup (blend) or CutMix (paste a box), returning soft targets.

    With probability ``prob`` a batch (or element / pair) is mixed; when both ``mixup_alpha`` and
    ``cutmix_alpha`` are positive, CutMix is chosen with probability ``switch_prob``. λ ~ Beta(α, α)
    of the chosen method. ``cutmix_minmax`` draws CutMix boxes by size range instead of from λ (and
    forces ``cutmix_alpha=1``). ``correct_lam`` sets λ to the exact kept-area fraction of a clipped
    box. ``num_classes`` must be given.
    """

    def __init__(
        self,
        mixup_alpha: float = 1.0,
        cutmix_alpha: float = 0.0,
        cutmix_minmax: Sequence[float] | None = None,
        prob: float = 1.0,
        switch_prob: float = 0.5,
        mode: str = "batch",
        correct_lam: bool = True,
        label_smoothing: float = 0.1,
        num_classes: int | None = None,
        multi_label: bool = False,
    ) -> None:
        if num_classes is None:
            raise ConfigError(
                f"{type(self).__name__} needs num_classes (the number of classes of the targets), e.g. "
                f"{type(self).__name__}(mixup_alpha=0.8, cutmix_alpha=1.0, num_classes=1000)"
            )
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ConfigError(f"num_classes must be a positive int, got {num_classes!r}")
        if mixup_alpha < 0 or cutmix_alpha < 0:
            raise ConfigError(f"mixup_alpha and cutmix_alpha must be >= 0, got {mixup_alpha!r}, {cutmix_alpha!r}")
        if cutmix_minmax is not None:
            if len(cutmix_minmax) != 2 or not 0.0 <= cutmix_minmax[0] <= cutmix_minmax[1] <= 1.0:
                raise ConfigError(
                    f"cutmix_minmax must be (min, max) fractions with 0 <= min <= max <= 1, got {cutmix_minmax!r}"
                )
            cutmix_minmax = (float(cutmix_minmax[0]), float(cutmix_minmax[1]))
            cutmix_alpha = 1.0
        if mixup_alpha <= 0 and cutmix_alpha <= 0:
            raise ConfigError(
                "Mixup needs mixup_alpha > 0, cutmix_alpha > 0 or cutmix_minmax set; all are off. "
                "Drop the Mixup transform instead to train without mixing."
            )
        if mode not in MIXUP_MODES:
            raise ConfigError(f"unknown Mixup mode {mode!r}: use one of {', '.join(MIXUP_MODES)}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
        self.mixup_alpha = float(mixup_alpha)
        self.cutmix_alpha = float(cutmix_alpha)
        self.cutmix_minmax = cutmix_minmax
        self.mix_prob = _check_prob(prob, "prob")
        self.switch_prob = _check_prob(switch_prob, "switch_prob")
        self.label_smoothing = float(label_smoothing)
        self.num_classes = num_classes
        self.multi_label = bool(multi_label)
        self.mode = mode
        self.correct_lam = bool(correct_lam)
        #: Set to False (e.g. for the last epochs) to pass batches through with λ = 1.
        self.mixup_enabled = True

    # -- sampling ---------------------------------------------------------------------------
    def _draw_lams(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """λ (float32) and use-CutMix flags for ``n`` independent draws."""
        lam = np.ones(n, dtype=np.float32)
        use_cutmix = np.zeros(n, dtype=bool)
        if not self.mixup_enabled or n == 0:
            return lam, use_cutmix
        if self.mixup_alpha > 0 and self.cutmix_alpha > 0:
            use_cutmix = np.random.rand(n) < self.switch_prob
            lam_mix = np.where(
                use_cutmix,
                np.random.beta(self.cutmix_alpha, self.cutmix_alpha, size=n),
                np.random.beta(self.mixup_alpha, self.mixup_alpha, size=n),
            )
        elif self.mixup_alpha > 0:
            lam_mix = np.random.beta(self.mixup_alpha, self.mixup_alpha, size=n)
        else:
            use_cutmix = np.ones(n, dtype=bool)
            lam_mix = np.random.beta(self.cutmix_alpha, self.cutmix_alpha, size=n)
        lam = np.where(np.random.rand(n) < self.mix_prob, lam_mix.astype(np.float32), lam)
        return lam, use_cutmix

    def _draw_lam(self) -> tuple[float, bool]:
        """One λ and use-CutMix flag for a whole batch."""
        if not self.mixup_enabled or np.random.rand() >= self.mix_prob:
            return 1.0, False
        use_cutmix = False
        if self.mixup_alpha > 0 and self.cutmix_alpha > 0:
            use_cutmix = bool(np.random.rand() < self.switch_prob)
            alpha = self.cutmix_alpha if use_cutmix else self.mixup_alpha
        elif self.mixup_alpha > 0:
            alpha = self.mixup_alpha
        else:
            use_cutmix, alpha = True, self.cutmix_alpha
        return float(np.random.beta(alpha, alpha)), use_cutmix

    def _box(self, shape: Sequence[int], lam: float) -> tuple[Box, float]:
        return cutmix_bbox_and_lam(shape, lam, ratio_minmax=self.cutmix_minmax, correct_lam=self.correct_lam)

    def plan_elements(
        self, batch_size: int, shape: Sequence[int], paired: bool = False, count: int | None = None
    ) -> tuple[np.ndarray, dict[int, Box]]:
        """Per-sample λ (length ``batch_size``) and CutMix boxes by sample index.

        ``paired`` draws one λ per pair (i, B-1-i) and gives both members the same λ and box;
        otherwise each of the first ``count`` (default: all) samples draws its own and the rest
        keep λ = 1. Self-paired middle samples get λ = 1.
        """
        n = batch_size // 2 if paired else (batch_size if count is None else count)
        lam, use_cutmix = self._draw_lams(n)
        boxes: dict[int, Box] = {}
        for i in range(n):
            j = batch_size - 1 - i
            if lam[i] == 1.0 or i == j:
                lam[i] = 1.0
                continue
            if use_cutmix[i]:
                boxes[i], lam[i] = self._box(shape, float(lam[i]))
                if paired:
                    boxes[j] = boxes[i]
        if paired:
            middle = np.ones(batch_size - 2 * n, dtype=np.float32)
            lam = np.concatenate((lam, middle, lam[::-1]))
        elif n < batch_size:
            lam = np.concatenate((lam, np.ones(batch_size - n, dtype=np.float32)))
        return lam, boxes

    # -- mixing -----------------------------------------------------------------------------
    def _mix_batch(self, x: torch.Tensor) -> float:
        lam, use_cutmix = self._draw_lam()
        if lam == 1.0:
            return 1.0
        if use_cutmix:
            (yl, yh, xl, xh), lam = self._box(x.shape, lam)
            x[..., yl:yh, xl:xh] = x[..., yl:yh, xl:xh].flip(0)
        elif x.device.type == "cpu":
            mix_pairs_(x, [lam] * x.shape[0], {}, blend_float_)
        else:
            x.lerp_(x.flip(0), 1.0 - lam)
        return lam

    def _mix_elements(self, x: torch.Tensor, paired: bool) -> torch.Tensor:
        batch_size = x.shape[0]
        lam, boxes = self.plan_elements(batch_size, x.shape, paired)
        if x.device.type == "cpu":  # pair by pair, in cache
            mix_pairs_(x, lam, boxes, blend_float_)
        else:  # few large kernels suit accelerators better
            mix_whole_batch_(x, lam, boxes)
        return torch.from_numpy(lam).to(x.device, x.dtype).unsqueeze(1)

    def _check_batch(self, x: Any, target: Any) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim < 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{type(self).__name__} expects a (B, C, H, W) image tensor, got {shape}")
        if not isinstance(target, torch.Tensor) or target.shape[0] != x.shape[0]:
            got = tuple(target.shape) if isinstance(target, torch.Tensor) else type(target).__name__
            raise ValueError(f"{type(self).__name__} expects one target per image ({x.shape[0]}), got {got}")
        if self.mixup_alpha > 0 and not x.is_floating_point():
            raise TypeError(
                f"Mixup blends images and needs a float tensor, got {x.dtype}; "
                "use FastCollateMixup to mix uint8 images while collating"
            )
        self._check_labels(target)

    def _check_labels(self, target: torch.Tensor) -> None:
        """Class indices must lie in [0, num_classes) (checked for CPU targets; no GPU sync)."""
        if not self.multi_label and target.device.type == "cpu" and target.numel():
            lo, hi = int(target.min()), int(target.max())
            if lo < 0 or hi >= self.num_classes:
                raise ValueError(
                    f"targets must be class indices in [0, {self.num_classes}), got values in [{lo}, {hi}]"
                )

    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mix ``x`` (B, C, H, W) in place; return it with (B, num_classes) soft targets on x's device."""
        self._check_batch(x, target)
        target = target.to(x.device)
        if self.mode == "elem":
            lam: float | torch.Tensor = self._mix_elements(x, paired=False)
        elif self.mode == "pair":
            lam = self._mix_elements(x, paired=True)
        else:
            lam = self._mix_batch(x)
        return x, mixup_target(target, self.num_classes, lam, self.label_smoothing, self.multi_label)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(mixup_alpha={self.mixup_alpha}, cutmix_alpha={self.cutmix_alpha}, "
            f"cutmix_minmax={self.cutmix_minmax}, prob={self.mix_prob}, switch_prob={self.switch_prob}, "
            f"mode={self.mode}, correct_lam={self.correct_lam}, label_smoothing={self.label_smoothing}, "
            f"num_classes={self.num_classes})"
        )
