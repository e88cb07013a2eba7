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

from .mix_inputs import MixInputError, check_images, check_number, class_targets
from .mix_pairs import blend_float_, mix_pairs_, mix_whole_batch_
from .mixup_boxes import Box, cutmix_bbox_and_lam, mixup_target

__all__ = ["Mixup", "MIXUP_MODES"]

#: The accepted ``mode`` values.
MIXUP_MODES: tuple[str, ...] = ("batch", "pair", "elem", "half")


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
        mixup_alpha = check_number(mixup_alpha, "mixup_alpha", 0.0)
        cutmix_alpha = check_number(cutmix_alpha, "cutmix_alpha", 0.0)
        if cutmix_minmax is not None:
            if not isinstance(cutmix_minmax, Sequence) or isinstance(cutmix_minmax, str) or len(cutmix_minmax) != 2:
                raise MixInputError(f"cutmix_minmax must be a (min, max) pair of fractions, got {cutmix_minmax!r}")
            lo = check_number(cutmix_minmax[0], "cutmix_minmax[0]", 0.0, 1.0)
            hi = check_number(cutmix_minmax[1], "cutmix_minmax[1]", 0.0, 1.0)
            if lo > hi:
                raise ConfigError(
                    f"cutmix_minmax must be (min, max) fractions with 0 <= min <= max <= 1, got {cutmix_minmax!r}"
                )
            cutmix_minmax = (lo, hi)
            cutmix_alpha = 1.0
        if mixup_alpha <= 0 and cutmix_alpha <= 0:
            raise ConfigError(
                "Mixup needs mixup_alpha > 0, cutmix_alpha > 0 or cutmix_minmax set; all are off. "
                "Drop the Mixup transform instead to train without mixing."
            )
        if mode not in MIXUP_MODES:
            raise ConfigError(f"unknown Mixup mode {mode!r}: use one of {', '.join(MIXUP_MODES)}")
        self.label_smoothing = check_number(label_smoothing, "label_smoothing", 0.0, 1.0, hi_open=True)
        self.mixup_alpha = mixup_alpha
        self.cutmix_alpha = cutmix_alpha
        self.cutmix_minmax = cutmix_minmax
        self.mix_prob = check_number(prob, "prob", 0.0, 1.0)
        self.switch_prob = check_number(switch_prob, "switch_prob", 0.0, 1.0)
        self.num_classes = num_classes
        self.multi_label = bool(multi_label)
        self.mode = mode
        self.correct_lam = bool(correct_lam)
        #: Set to False (e.g. for the last epochs) to pass batches through with λ = 1.
        self.mixup_enabled = True

    # -- sampling ---------------------------------------------------------------------------
    def _methods(self) -> list[tuple[bool, float]]:
        """The active methods as (is CutMix, alpha), CutMix first."""
        methods = [(True, self.cutmix_alpha)] if self.cutmix_alpha > 0 else []
        return methods + ([(False, self.mixup_alpha)] if self.mixup_alpha > 0 else [])

    def _draw_lams(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """λ (float32) and use-CutMix flags for ``n`` independent draws (numpy's global generator).

        The draws come in this order, a fact kept so seeded runs equal timm's: with both methods
        active, ``n`` uniforms choosing CutMix (below ``switch_prob``), ``n`` CutMix betas and ``n``
        Mixup betas; with one method, its ``n`` betas; then ``n`` uniforms choosing which draws mix
        at all (below ``prob``). A draw that does not mix gets λ = 1.
        """
        ones = np.ones(n, dtype=np.float32)
        if not self.mixup_enabled or n == 0:
            return ones, np.zeros(n, dtype=bool)
        methods = self._methods()
        if len(methods) == 2:
            use_cutmix = np.random.rand(n) < self.switch_prob
            by_method = {is_cut: np.random.beta(alpha, alpha, size=n) for is_cut, alpha in methods}
            drawn = np.where(use_cutmix, by_method[True], by_method[False])
        else:
            (is_cut, alpha), = methods
            use_cutmix = np.full(n, is_cut, dtype=bool)
            drawn = np.random.beta(alpha, alpha, size=n)
        mixes = np.random.rand(n) < self.mix_prob
        return np.where(mixes, drawn.astype(np.float32), ones), use_cutmix

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

    def _targets(self, target: Any, batch: int) -> torch.Tensor:
        """Validated targets for a batch of ``batch`` images (see :func:`.mix_inputs.class_targets`)."""
        return class_targets(target, batch, self.num_classes, self.multi_label, type(self).__name__)

    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mix ``x`` (B, C, H, W) in place; return it with (B, num_classes) soft targets on x's device."""
        check_images(x, type(self).__name__, blends=self.mixup_alpha > 0)
        target = self._targets(target, x.shape[0]).to(x.device)
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
