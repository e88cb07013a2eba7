"""ChannelShuffle: a RandAugment-style op that permutes the colour channels at random.

It subclasses pimm's ``AugmentOp`` (``pimm.core.data.augment``, the op contract), so probability,
magnitude sampling, the repr and the tensor path (through PIL, sample by sample) come for free,
and RandAugment can use it by name. It draws Python random numbers inside the op, so its spec is
tagged ``"stochastic"``.
"""

from __future__ import annotations

import random
from typing import Any

from PIL import Image

from pimm.core.data.augment import AugmentOp


class ChannelShuffle(AugmentOp):
    """Reorder the R, G, B channels with a random permutation; other modes pass through."""

    name = "ChannelShuffle"

    def level_args(self, f: Any, sign: Any) -> tuple:
        """No arguments: the magnitude does not change what a shuffle does."""
        return ()

    def apply_pil(self, img: Image.Image, *args: Any, resample: Any = None, fill: Any = None) -> Image.Image:
        """Shuffle the colour bands of an 'RGB' or 'RGBA' image (alpha stays last)."""
        if img.mode not in ("RGB", "RGBA"):
            return img
        bands = list(img.split())
        colour = bands[:3]
        random.shuffle(colour)
        return Image.merge(img.mode, colour + bands[3:])
