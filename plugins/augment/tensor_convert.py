"""Conversion of PIL images / arrays to tensors, and normalisation.

``MaybeToTensor`` gives float CHW in [0, 1] (tensors pass through unchanged); ``MaybePILToTensor``
gives uint8 CHW, unscaled (for a GPU-side prefetcher or ``normalize=False``). The 8-bit PIL path
reads the image buffer through numpy and converts layout and dtype in one pass into torch memory,
with values bit-identical to torchvision's ``to_tensor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

from pimm.core.errors import ConfigError

__all__ = ["MaybeToTensor", "MaybePILToTensor", "ToTensor", "Normalize", "pil_to_uint8_chw"]

# PIL modes whose pixels are one unsigned byte per channel.
_BYTE_MODES = frozenset({"L", "P", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "LA", "PA", "RGBX", "RGBa", "La"})


def _pil_hwc_uint8(img: Image.Image) -> np.ndarray | None:
    """HWC uint8 array of an 8-bit PIL image (None for other modes, e.g. 'I', 'F', '1')."""
    if img.mode not in _BYTE_MODES:
        return None
    arr = np.asarray(img)
    if arr.dtype != np.uint8:
        return None
    return arr[:, :, None] if arr.ndim == 2 else arr


def pil_to_uint8_chw(img: Image.Image) -> torch.Tensor | None:
    """uint8 CHW tensor of an 8-bit PIL image (None for other modes, e.g. 'I', 'F', '1')."""
    arr = _pil_hwc_uint8(img)
    if arr is None:
        return None
    out = torch.empty((arr.shape[2], arr.shape[0], arr.shape[1]), dtype=torch.uint8)
    np.copyto(out.numpy(), arr.transpose(2, 0, 1))
    return out


def _pil_to_float_chw(img: Image.Image) -> torch.Tensor | None:
    """float32 CHW tensor in [0, 1] of an 8-bit PIL image, bit-identical to torchvision's to_tensor."""
    if torch.get_default_dtype() != torch.float32:
        return None
    arr = _pil_hwc_uint8(img)
    if arr is None:
        return None
    # One pass converts layout and dtype straight into torch-owned memory; the division then
    # gives exactly to_tensor's values.
    out = torch.empty((arr.shape[2], arr.shape[0], arr.shape[1]), dtype=torch.float32)
    np.copyto(out.numpy(), arr.transpose(2, 0, 1), casting="unsafe")
    return out.div_(255)


class MaybeToTensor:
    """PIL image or HWC array → float32 CHW tensor in [0, 1]; tensors are returned unchanged."""

    def __call__(self, pic: Any) -> torch.Tensor:
        """Convert ``pic``."""
        if isinstance(pic, torch.Tensor):
            return pic
        if isinstance(pic, Image.Image):
            chw = _pil_to_float_chw(pic)
            if chw is not None:
                return chw
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MaybePILToTensor:
    """PIL image or HWC array → CHW tensor of the same dtype, unscaled; tensors are unchanged."""

    def __call__(self, pic: Any) -> torch.Tensor:
        """Convert ``pic``."""
        if isinstance(pic, torch.Tensor):
            return pic
        if isinstance(pic, np.ndarray):
            arr = pic if pic.ndim == 3 else pic[:, :, None]
            return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
        if isinstance(pic, Image.Image):
            chw = pil_to_uint8_chw(pic)
            if chw is not None:
                return chw
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToTensor(MaybePILToTensor):
    """PIL image → CHW tensor cast to ``dtype`` without rescaling (e.g. float32 in [0, 255])."""

    def __init__(self, dtype: torch.dtype | str = torch.float32) -> None:
        if isinstance(dtype, str):
            resolved = getattr(torch, dtype, None)
            if not isinstance(resolved, torch.dtype):
                raise ConfigError(f"unknown torch dtype {dtype!r}, e.g. 'float32', 'float16', 'uint8'")
            dtype = resolved
        self.dtype = dtype

    def __call__(self, pic: Any) -> torch.Tensor:
        """Convert ``pic``."""
        return super().__call__(pic).to(self.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dtype={self.dtype})"


class Normalize(T.Normalize):
    """``(x - mean) / std`` per channel on float CHW or NCHW tensors (torchvision's repr and results).

    The mean and std are kept as (C, 1, 1) tensors moved to the input's device and dtype once, so
    each call is just a subtraction and a division.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        mean_t = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std_t = torch.as_tensor(std, dtype=torch.float32).flatten()
        if mean_t.numel() != std_t.numel():
            raise ConfigError(f"mean and std need the same length, got {tuple(mean)} and {tuple(std)}")
        if bool((std_t == 0).any()):
            raise ConfigError(f"std must not contain zeros, got {tuple(std)}")
        super().__init__(mean_t, std_t, inplace)
        self._cache: tuple[torch.device, torch.dtype, torch.Tensor, torch.Tensor] | None = None

    def _stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cache = self._cache
        if cache is None or cache[0] != x.device or cache[1] != x.dtype:
            mean = self.mean.to(x.device, x.dtype).view(-1, 1, 1)
            std = self.std.to(x.device, x.dtype).view(-1, 1, 1)
            cache = self._cache = (x.device, x.dtype, mean, std)
        return cache[2], cache[3]

    def forward(self, tensor: torch.Tensor) -> torch.Tensor:
        """Normalise ``tensor`` (a float tensor with channels at dim -3)."""
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise TypeError(
                f"Normalize expects a float tensor, got {type(tensor).__name__}"
                f"{'' if not isinstance(tensor, torch.Tensor) else ' of dtype ' + str(tensor.dtype)}; "
                "convert with MaybeToTensor first"
            )
        channels = self.mean.numel()
        if tensor.ndim < 3 or tensor.shape[-3] not in (channels, 1):
            raise ValueError(
                f"Normalize with {channels} channel statistics got a tensor of shape {tuple(tensor.shape)}"
            )
        mean, std = self._stats(tensor)
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return tensor.sub(mean).div_(std)
