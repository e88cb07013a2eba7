"""The enhance ops: Color, Contrast, Brightness, Sharpness (plain and ``*Increasing``) and Desaturate.

Each is a blend between the image and a degenerate version of it (grayscale, mean gray, black,
smoothed) by a factor from the magnitude. The PIL path is ``ImageEnhance``; the tensor path blends
a batch with one factor per sample and, for uint8 input, reproduces PIL's integer arithmetic (luma
rounding, truncating blend), so both paths give the same pixels.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from PIL import Image, ImageEnhance

from pimm.core.data.augment import TensorCtx

from .op_base import BuiltinOp, at_least, clamp

__all__ = [
    "Color", "ColorIncreasing", "Contrast", "ContrastIncreasing", "Brightness", "BrightnessIncreasing",
    "Sharpness", "SharpnessIncreasing", "Desaturate", "grayscale", "blend", "smooth",
]


def _col(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, 1, 1, 1).to(torch.float32)


def grayscale(x: torch.Tensor, exact: bool) -> torch.Tensor:
    """(N, 1, H, W) gray image: ITU-R 601 luma for 3 channels (PIL's rounding when exact)."""
    c = x.shape[1]
    if c == 3:
        if exact:  # integer luma; every intermediate is an integer below 2**24, so float32 is exact
            acc = x[:, 0:1] * 19595.0
            acc.add_(x[:, 1:2], alpha=38470.0).add_(x[:, 2:3], alpha=7471.0).add_(32768.0)
            return acc.div_(65536.0).floor_()
        acc = x[:, 0:1] * 0.299
        return acc.add_(x[:, 1:2], alpha=0.587).add_(x[:, 2:3], alpha=0.114)
    if c == 1:
        return x.clone()
    return x.mean(dim=1, keepdim=True)


def blend(degenerate: torch.Tensor, x: torch.Tensor, factor: torch.Tensor, exact: bool) -> torch.Tensor:
    """degenerate + factor·(x - degenerate), clipped to 0..255 (truncated like PIL when exact).

    Works in place on ``x`` (the ops own their working tensor).
    """
    out = x.sub_(degenerate).mul_(_col(factor)).add_(degenerate).clamp_(0, 255)
    return out.floor_() if exact else out


def smooth(x: torch.Tensor, exact: bool) -> torch.Tensor:
    """PIL's SMOOTH 3x3 filter (all ones, centre 5, over 13); the one-pixel border is left as it is."""
    h, w = x.shape[-2:]
    if h < 3 or w < 3:
        return x
    rows = x[..., :-2, :] + x[..., 1:-1, :] + x[..., 2:, :]
    box = rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]
    inner = box.add_(x[..., 1:-1, 1:-1], alpha=4.0).div_(13.0)
    if exact:
        inner = inner.add_(0.5).floor_()
    out = x.clone()
    out[..., 1:-1, 1:-1] = inner
    return out


class EnhanceOp(BuiltinOp):
    """Factor 1.8·m/10 + 0.1 (0.1 .. 1.9) applied with ``enhancer`` (PIL) / :meth:`enhance` (tensor)."""

    enhancer: ClassVar[Any] = None

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (f * 1.8 + 0.1,)

    def apply_pil(self, img: Image.Image, factor: float, resample: Any = None, fill: Any = None) -> Image.Image:
        return self.enhancer(img).enhance(float(factor))

    def enhance(self, x: torch.Tensor, factor: torch.Tensor, exact: bool) -> torch.Tensor:
        """Blend the working batch ``x`` with its degenerate image by the per-sample ``factor``."""
        raise NotImplementedError

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        return self.enhance(x, args[0], ctx.exact)


class IncreasingMixin:
    """Factor max(0.1, 1 ± 0.9·m/10): identity at magnitude 0, stronger with m, random sign."""

    signed = True

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (at_least(1.0 + f * 0.9 * sign, 0.1),)


class Color(EnhanceOp):
    """Saturation: blend with the grayscale image."""

    name = "Color"
    enhancer = ImageEnhance.Color

    def enhance(self, x: torch.Tensor, factor: torch.Tensor, exact: bool) -> torch.Tensor:
        return blend(grayscale(x, exact), x, factor, exact)


class ColorIncreasing(IncreasingMixin, Color):
    """Saturation factor max(0.1, 1 ± 0.9·m/10)."""

    name = "ColorIncreasing"


class Contrast(EnhanceOp):
    """Contrast: blend with the image's mean gray level."""

    name = "Contrast"
    enhancer = ImageEnhance.Contrast

    def enhance(self, x: torch.Tensor, factor: torch.Tensor, exact: bool) -> torch.Tensor:
        mean = grayscale(x, exact).mean(dim=(1, 2, 3), keepdim=True)
        if exact:
            mean = torch.floor(mean + 0.5)
        return blend(mean, x, factor, exact)


class ContrastIncreasing(IncreasingMixin, Contrast):
    """Contrast factor max(0.1, 1 ± 0.9·m/10)."""

    name = "ContrastIncreasing"


class Brightness(EnhanceOp):
    """Brightness: blend with black, i.e. scale."""

    name = "Brightness"
    enhancer = ImageEnhance.Brightness

    def enhance(self, x: torch.Tensor, factor: torch.Tensor, exact: bool) -> torch.Tensor:
        out = x.mul_(_col(factor)).clamp_(0, 255)
        return out.floor_() if exact else out


class BrightnessIncreasing(IncreasingMixin, Brightness):
    """Brightness factor max(0.1, 1 ± 0.9·m/10)."""

    name = "BrightnessIncreasing"


class Sharpness(EnhanceOp):
    """Sharpness: blend with the smoothed image (factor > 1 sharpens)."""

    name = "Sharpness"
    enhancer = ImageEnhance.Sharpness

    def enhance(self, x: torch.Tensor, factor: torch.Tensor, exact: bool) -> torch.Tensor:
        return blend(smooth(x, exact), x, factor, exact)


class SharpnessIncreasing(IncreasingMixin, Sharpness):
    """Sharpness factor max(0.1, 1 ± 0.9·m/10)."""

    name = "SharpnessIncreasing"


class Desaturate(Color):
    """Saturation factor clamp(1 - v, 0, 1) with v = clamp(0.5 + 0.5·m/10, 0.5, 1)."""

    name = "Desaturate"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (clamp(0.5 + 0.5 * f, 0.5, 1.0),)

    def apply_pil(self, img: Image.Image, v: float, resample: Any = None, fill: Any = None) -> Image.Image:
        return ImageEnhance.Color(img).enhance(min(1.0, max(0.0, 1.0 - float(v))))

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        return self.enhance(x, (1.0 - args[0]).clamp(0.0, 1.0), ctx.exact)
