"""The ops' tensor working format: conversions from and to user tensors, fill values per channel count.

Working format: float32 (N, C, H, W) on the input's device, values on the 0..255 scale. uint8
input is taken as is ("exact" mode: PIL's integer arithmetic is reproduced); floating input is
taken to be in [0, 1] (what ``ToTensor`` gives) and scaled by 255.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ...errors import ConfigError

__all__ = [
    "TensorCtx", "WorkInfo", "as_batch", "encode", "decode", "to_uint8", "take", "put", "unbatch",
    "to_work", "from_work", "settle", "fill_values",
]


@dataclass
class TensorCtx:
    """What an op's tensor path needs besides its arguments (see ``AugmentOp.apply_tensor_args``)."""

    #: (C,) fill values on the 0..255 scale, one per channel the op receives
    fill: torch.Tensor
    #: emulate PIL's 8-bit integer arithmetic (the input was uint8)
    exact: bool = True
    #: per-sample resampling name ('bilinear', 'bicubic', 'nearest') for geometric ops, else empty
    modes: list[str] = field(default_factory=list)

    def channels(self, c: int) -> TensorCtx:
        """The same context for the first ``c`` channels (e.g. the colour channels of RGBA)."""
        return TensorCtx(fill=self.fill[:c], exact=self.exact, modes=self.modes)


@dataclass(frozen=True)
class WorkInfo:
    """How to turn a working tensor back into the user's layout and dtype."""

    single: bool
    dtype: torch.dtype

    @property
    def exact(self) -> bool:
        return self.dtype == torch.uint8


def as_batch(img: torch.Tensor) -> tuple[torch.Tensor, WorkInfo]:
    """A fresh (N, C, H, W) copy of ``img`` in its own dtype (checked), and how to convert back."""
    _check(img)
    info = WorkInfo(single=img.dim() == 3, dtype=img.dtype)
    return (img.unsqueeze(0) if info.single else img).clone(), info


def encode(x: torch.Tensor, info: WorkInfo) -> torch.Tensor:
    """User-dtype samples → working float32 on the 0..255 scale."""
    return x.to(torch.float32) if info.exact else x.to(torch.float32) * 255.0


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Clipped float levels → uint8, truncating. Goes through int16: on the CPU torch converts
    float32 → int16 → uint8 about four times faster than float32 → uint8 directly."""
    return x.to(torch.int16).to(torch.uint8)


def decode(x: torch.Tensor, info: WorkInfo) -> torch.Tensor:
    """Working samples (already clipped, 8-bit levels when exact) → the user's dtype."""
    return to_uint8(x) if info.exact else (x / 255.0).to(info.dtype)


def take(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """The samples ``idx`` of a batch, as a new tensor (``index_select``: on the CPU about ten
    times faster than ``x[idx]``, which indexes element by element)."""
    return x.index_select(0, idx.to(x.device))


def put(x: torch.Tensor, idx: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Write ``values`` back into samples ``idx`` of ``x`` in place, one contiguous copy per sample
    (faster than ``x[idx] = values`` or ``index_copy_`` on the CPU for the small groups policies
    produce); returns ``x``."""
    for j, i in enumerate(idx.tolist()):
        x[i].copy_(values[j])
    return x


def unbatch(x: torch.Tensor, info: WorkInfo) -> torch.Tensor:
    """Drop the batch dimension added for a single image."""
    return x[0] if info.single else x


def _check(img: torch.Tensor) -> None:
    if img.dim() not in (3, 4):
        raise ConfigError(
            f"augment ops take a (C, H, W) image or an (N, C, H, W) batch, got shape {tuple(img.shape)}"
        )
    if img.dtype != torch.uint8 and not img.is_floating_point():
        raise ConfigError(
            f"augment ops take uint8 (0..255) or floating (0..1) tensors, got dtype {img.dtype}; "
            "convert with .float() / 255 or .to(torch.uint8)"
        )


def to_work(img: torch.Tensor) -> tuple[torch.Tensor, WorkInfo]:
    """(N, C, H, W) float32 on the 0..255 scale, and how to convert back."""
    _check(img)
    info = WorkInfo(single=img.dim() == 3, dtype=img.dtype)
    return encode(img.unsqueeze(0) if info.single else img, info), info


def settle(x: torch.Tensor, exact: bool) -> torch.Tensor:
    """Clip to 0..255, rounding to 8-bit levels in exact mode (PIL stores 8 bits between ops)."""
    x = x.clamp(0, 255)
    return x.round() if exact else x


def from_work(x: torch.Tensor, info: WorkInfo) -> torch.Tensor:
    """Back to the user's dtype and layout."""
    return unbatch(decode(x.clamp(0, 255), info), info)


def fill_values(channels: int, img_mean: tuple[int, ...]) -> torch.Tensor:
    """Fill per channel: ``img_mean`` if it has one value per channel; luma of it for 1 channel;
    it plus opaque alpha (255) for 4 channels; otherwise its average for every channel."""
    mean = [float(v) for v in img_mean]
    if len(mean) == channels:
        vals = mean
    elif channels == 1 and len(mean) >= 3:
        vals = [float(round((mean[0] * 299 + mean[1] * 587 + mean[2] * 114) / 1000))]
    elif channels == 4 and len(mean) == 3:
        vals = [*mean, 255.0]
    else:
        vals = [sum(mean) / len(mean)] * channels
    return torch.tensor(vals, dtype=torch.float32)
