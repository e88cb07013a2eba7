"""What the builtin ops share on top of pimm's :class:`~pimm.core.data.augment.AugmentOp` contract.

- :class:`BuiltinOp`: the tensor results are already clipped to 0..255 (8-bit levels for uint8
  input); ops that set ``uint8_native`` run on uint8 samples directly (bit operations, uint8
  lookup tables), skipping the float working format.
- :class:`GeometricOp`: moves pixels; 4-channel input is resampled with premultiplied alpha, as PIL
  does for RGBA.
- Level-mapping helpers that work on Python floats (one image) and on 1-D tensors (one value per
  sample) alike, so both paths compute the same numbers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from pimm.core.data.augment import AugmentOp, TensorCtx, WorkInfo

from .tensor_warp import premultiply, unpremultiply

__all__ = ["BuiltinOp", "GeometricOp", "trunc", "at_most", "at_least", "clamp"]


def trunc(v: Any) -> Any:
    """Towards zero: ``int`` for a number, ``.trunc()`` for a tensor."""
    return int(v) if isinstance(v, (int, float)) else v.trunc()


def at_most(v: Any, hi: float) -> Any:
    """``min(v, hi)`` for a number or a tensor."""
    return min(v, hi) if isinstance(v, (int, float)) else v.clamp(max=hi)


def at_least(v: Any, lo: float) -> Any:
    """``max(v, lo)`` for a number or a tensor."""
    return max(v, lo) if isinstance(v, (int, float)) else v.clamp(min=lo)


def clamp(v: Any, lo: float, hi: float) -> Any:
    """``v`` clipped to [lo, hi], number or tensor."""
    return at_least(at_most(v, hi), lo)


class BuiltinOp(AugmentOp):
    """A builtin op: settled tensor results; ``uint8_native`` ops take uint8 batches as they are."""

    settled = True
    #: ``apply_tensor_args`` also takes a uint8 batch of 8-bit levels and returns uint8
    uint8_native: ClassVar[bool] = False

    def run_user(self, x: torch.Tensor, magnitudes: torch.Tensor, info: WorkInfo) -> torch.Tensor:
        if not (info.exact and self.uint8_native):
            return super().run_user(x, magnitudes, info)
        args = self.sample_args(magnitudes, x.device)
        ctx = self.tensor_ctx(x, True)
        if x.shape[1] == 4:  # alpha of RGBA kept as it is
            x[:, :3] = self.apply_tensor_args(x[:, :3], args, ctx.channels(3))
            return x
        return self.apply_tensor_args(x, args, ctx)


class GeometricOp(BuiltinOp):
    """A builtin op that moves pixels; subclasses define :meth:`warp` for the working batch."""

    geometric = True
    colour_only = False
    signed = True

    def warp(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """Move the pixels of every channel of ``x`` (float32 0..255) by the per-sample ``args``."""
        raise NotImplementedError

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        if x.shape[1] == 4 and "nearest" not in ctx.modes:
            # PIL resamples RGBA with premultiplied alpha; so do we, for 4-channel input
            return unpremultiply(self.warp(premultiply(x, ctx.exact), args, ctx), ctx.exact)
        return self.warp(x, args, ctx)
