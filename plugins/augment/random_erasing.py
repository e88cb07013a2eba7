"""RandomErasing: blank out random rectangles of normalised image tensors (Zhong et al., 2017).

Works in place on a CHW image or an NCHW batch (each image drawn independently), on whatever
device the tensor lives on. Box geometry uses Python ``random``; noise fills use torch's generator
of the input's device.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch

from pimm.core.errors import ConfigError

__all__ = ["RandomErasing", "ERASE_MODES", "ErasingInputError"]

#: Fill modes: 'const' zeros (the mean after normalisation), 'rand' one normal value per channel,
#: 'pixel' a normal value per pixel and channel.
ERASE_MODES: tuple[str, ...] = ("const", "rand", "pixel")


class ErasingInputError(ConfigError, TypeError):
    """RandomErasing was given something it cannot erase (not a CHW/NCHW tensor, or noise on integers)."""


def _check_input(img: Any, mode: str) -> None:
    if not isinstance(img, torch.Tensor):
        raise ErasingInputError(
            f"RandomErasing works on image tensors, got {type(img).__name__}; place it after the "
            "tensor conversion (MaybeToTensor, Normalize) in the pipeline"
        )
    if img.ndim not in (3, 4):
        raise ErasingInputError(
            f"RandomErasing expects a (C, H, W) image or an (N, C, H, W) batch, got shape {tuple(img.shape)}; "
            "add the channel dimension with img.unsqueeze(0)"
        )
    if mode != "const" and not img.is_floating_point():
        raise ErasingInputError(
            f"RandomErasing mode {mode!r} fills with normal noise and needs a float (normalised) tensor, got "
            f"{img.dtype}; use mode='const' (zeros) for {img.dtype} images or convert them with MaybeToTensor"
        )


class RandomErasing:
    """Erase ``min_count``..``max_count`` random boxes per image with probability ``probability``.

    Each box covers ``U(min_area, max_area) / count`` of the image with an aspect ratio drawn
    log-uniformly from ``(min_aspect, max_aspect)`` (``max_aspect`` defaults to ``1 / min_aspect``);
    a box is redrawn up to 10 times until it fits strictly inside the image, else skipped. For a
    batch with ``num_splits > 1``, the first ``B // num_splits`` images (the clean split) are left
    untouched. ``device`` is accepted for compatibility and ignored: fills are made on the input's
    device.
    """

    def __init__(
        self,
        probability: float = 0.5,
        min_area: float = 0.02,
        max_area: float = 1 / 3,
        min_aspect: float = 0.3,
        max_aspect: float | None = None,
        mode: str = "const",
        min_count: int = 1,
        max_count: int | None = None,
        num_splits: int = 0,
        device: str | torch.device | None = None,
    ) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ConfigError(f"RandomErasing probability must be in [0, 1], got {probability!r}")
        if not 0.0 < min_area <= max_area <= 1.0:
            raise ConfigError(
                f"RandomErasing needs 0 < min_area <= max_area <= 1, got min_area={min_area!r}, "
                f"max_area={max_area!r}"
            )
        max_aspect = max_aspect or (1.0 / min_aspect if min_aspect > 0 else 0.0)
        if min_aspect <= 0 or max_aspect < min_aspect:
            raise ConfigError(
                f"RandomErasing needs 0 < min_aspect <= max_aspect, got min_aspect={min_aspect!r}, "
                f"max_aspect={max_aspect!r}"
            )
        mode = (mode or "const").lower()
        if mode not in ERASE_MODES:
            raise ConfigError(f"unknown RandomErasing mode {mode!r}: use one of {', '.join(ERASE_MODES)}")
        max_count = max_count or min_count
        if min_count < 1 or max_count < min_count:
            raise ConfigError(
                f"RandomErasing needs 1 <= min_count <= max_count, got min_count={min_count!r}, "
                f"max_count={max_count!r}"
            )
        if num_splits < 0:
            raise ConfigError(f"num_splits must be >= 0, got {num_splits!r}")
        if device is not None and not isinstance(device, (str, torch.device)):
            raise ConfigError(f"device must be a string or torch.device (it is ignored), got {device!r}")
        self.probability = probability
        self.min_area = min_area
        self.max_area = max_area
        self.log_aspect_ratio = (math.log(min_aspect), math.log(max_aspect))
        self.mode = mode
        self.min_count = min_count
        self.max_count = max_count
        self.num_splits = num_splits

    def _noise(self, img: torch.Tensor, channels: int, height: int, width: int) -> torch.Tensor | float:
        """What a box is filled with: 0, one normal value per channel, or one per pixel and channel."""
        if self.mode == "const":
            return 0.0
        shape = (channels, height, width) if self.mode == "pixel" else (channels, 1, 1)
        return torch.empty(shape, dtype=img.dtype, device=img.device).normal_()

    def _box(self, img_h: int, img_w: int, count: int) -> tuple[int, int, int, int] | None:
        """One box ``(top, left, height, width)`` strictly inside the image, or None after 10 misses.

        Python ``random`` draws, in this order (a fact kept so seeded boxes equal timm's): per
        attempt the area fraction, then the log-aspect; once a box fits, its top, then its left.
        """
        total = img_h * img_w
        for _ in range(10):
            area = random.uniform(self.min_area, self.max_area) * total / count
            aspect = math.exp(random.uniform(*self.log_aspect_ratio))
            height, width = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if height < img_h and width < img_w:
                return random.randint(0, img_h - height), random.randint(0, img_w - width), height, width
        return None

    def _erase(self, img: torch.Tensor) -> None:
        """Erase the boxes of one (C, H, W) image in place (the apply/skip draw first, then the count)."""
        if random.random() > self.probability:
            return
        channels, img_h, img_w = img.shape
        count = self.min_count
        if self.max_count > self.min_count:
            count = random.randint(self.min_count, self.max_count)
        for _ in range(count):
            box = self._box(img_h, img_w, count)
            if box is None:
                continue
            top, left, height, width = box
            img[:, top : top + height, left : left + width] = self._noise(img, channels, height, width)

    def __call__(self, input: torch.Tensor) -> torch.Tensor:
        """Erase boxes of ``input`` (CHW or NCHW) in place and return it."""
        _check_input(input, self.mode)
        if input.ndim == 3:
            self._erase(input)
            return input
        batch = input.shape[0]
        start = batch // self.num_splits if self.num_splits > 1 else 0
        for i in range(start, batch):
            self._erase(input[i])
        return input

    def __repr__(self) -> str:
        count = f"({self.min_count}, {self.max_count})"
        return f"{type(self).__name__}(p={self.probability}, mode={self.mode}, count={count})"
