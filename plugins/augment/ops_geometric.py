"""The geometric ops: Rotate, ShearX/Y, TranslateX/Y and their relative variants.

Each class holds its level mapping (timm's numbers), its PIL behaviour (Pillow's affine transforms
with the op's resampling filter and fill colour) and its tensor behaviour (a batched warp of
:mod:`.tensor_warp`, one argument per sample). Every one is signed: the argument's sign is flipped
50/50 per call.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from PIL import Image

from pimm.core.data.augment import TensorCtx

from .op_base import GeometricOp
from .tensor_warp import affine, identity_matrices, shift

__all__ = ["Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY", "TranslateXRel", "TranslateYRel"]


def _pil_affine(img: Image.Image, matrix: tuple, resample: Any, fill: Any) -> Image.Image:
    return img.transform(img.size, Image.Transform.AFFINE, matrix, resample=resample, fillcolor=fill)


class Rotate(GeometricOp):
    """Rotate by ±30·m/10 degrees counter-clockwise about the centre."""

    name = "Rotate"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (f * 30.0 * sign,)

    def apply_pil(self, img: Image.Image, degrees: float, resample: Any = None, fill: Any = None) -> Image.Image:
        return img.rotate(degrees, resample=resample, fillcolor=fill)

    def warp(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        h, w = x.shape[-2:]
        angle = -args[0].double() * (math.pi / 180.0)
        cos, sin = torch.cos(angle), torch.sin(angle)
        cx, cy = w / 2.0, h / 2.0
        m = torch.stack((cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy), dim=1)
        return affine(x, m.float(), ctx)


class ShearX(GeometricOp):
    """Horizontal shear ±0.3·m/10: output (x, y) reads input (x + k·y, y)."""

    name = "ShearX"
    #: slot of the shear factor in the PIL matrix (a, b, c, d, e, f)
    slot = 1

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (f * 0.3 * sign,)

    def _matrix(self, k: float) -> tuple:
        m = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        m[self.slot] = k
        return tuple(m)

    def apply_pil(self, img: Image.Image, factor: float, resample: Any = None, fill: Any = None) -> Image.Image:
        return _pil_affine(img, self._matrix(factor), resample, fill)

    def warp(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        m = identity_matrices(x.shape[0], x.device)
        m[:, self.slot] = args[0].to(m)
        return affine(x, m, ctx)


class ShearY(ShearX):
    """Vertical shear ±0.3·m/10: output (x, y) reads input (x, y + k·x)."""

    name = "ShearY"
    slot = 3


class TranslateX(GeometricOp):
    """Shift ±translate_const·m/10 pixels: output (x, y) reads input (x + t, y)."""

    name = "TranslateX"
    #: dimension of a (N, C, H, W) batch the op shifts along (3: x, 2: y)
    dim = 3

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (f * float(self.hparams.translate_const) * sign,)

    def pixels(self, amount: Any, size: int) -> Any:
        """The shift in pixels for the level argument ``amount`` along a side of ``size`` pixels."""
        return amount

    def apply_pil(self, img: Image.Image, amount: float, resample: Any = None, fill: Any = None) -> Image.Image:
        t = self.pixels(amount, img.size[0] if self.dim == 3 else img.size[1])
        matrix = (1, 0, t, 0, 1, 0) if self.dim == 3 else (1, 0, 0, 0, 1, t)
        return _pil_affine(img, matrix, resample, fill)

    def warp(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        return shift(x, self.pixels(args[0], x.shape[self.dim]), self.dim, ctx)


class TranslateY(TranslateX):
    """Shift ±translate_const·m/10 pixels: output (x, y) reads input (x, y + t)."""

    name = "TranslateY"
    dim = 2


class TranslateXRel(TranslateX):
    """Shift ±translate_pct·m/10 of the width."""

    name = "TranslateXRel"

    def level_args(self, f: Any, sign: Any) -> tuple:
        return (f * float(self.hparams.translate_pct) * sign,)

    def pixels(self, amount: Any, size: int) -> Any:
        return amount * size


class TranslateYRel(TranslateXRel):
    """Shift ±translate_pct·m/10 of the height."""

    name = "TranslateYRel"
    dim = 2
