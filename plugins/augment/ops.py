"""The op classes: one :class:`AugmentOp` subclass per registered builtin op.

An op is called on a PIL image (Python ``random`` draws, the same sequence as timm) or on a
tensor (``torch`` draws on the CPU, so results do not depend on the device): a (C, H, W) image or
an (N, C, H, W) batch whose samples each get their own apply/skip, magnitude and sign.

Third-party ops subclass :class:`AugmentOp`, set ``name`` and implement :meth:`level_args` and
:meth:`apply_pil`; :meth:`apply_tensor_args` is optional (the default converts each sample to a
PIL image and back, for 1, 3 and 4 channels).
"""

from __future__ import annotations

import math
import random
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from pimm.core.errors import ConfigError

from .levels import LEVEL_DENOM, LEVELS, SIGNED
from .op_specs import OP_TABLE, OpHParams
from .ops_pil import PIL_OPS, pil_fill, pil_resample
from .ops_tensor import PIXEL_OPS, UINT8_NATIVE, TensorCtx
from .ops_tensor_geom import GEOMETRIC_OPS, OTHER_OPS, premultiply, unpremultiply
from .tensor_io import WorkInfo, as_batch, decode, encode, fill_values, put, settle, take, unbatch

__all__ = ["AugmentOp", "BuiltinOp", "sample_magnitude", "sample_magnitudes", *OP_TABLE]


def _uniform_std(std: float) -> bool:
    return math.isinf(std) or std > 100


def sample_magnitude(magnitude: float, std: float, mmax: float | None) -> float:
    """One magnitude with noise ``std`` (Python ``random``), clipped to [0, mmax or 10]."""
    m = magnitude
    if _uniform_std(std):
        m = random.uniform(0, magnitude)
    elif std > 0:
        m = random.gauss(magnitude, std)
    return max(0.0, min(m, mmax or LEVEL_DENOM))


def sample_magnitudes(n: int, magnitude: float, std: float, mmax: float | None) -> torch.Tensor:
    """``n`` magnitudes (torch RNG on the CPU), clipped to [0, mmax or 10]."""
    m = torch.full((n,), float(magnitude), dtype=torch.float64)
    if _uniform_std(std):
        m = torch.rand(n, dtype=torch.float64) * magnitude
    elif std > 0:
        m = m + torch.randn(n, dtype=torch.float64) * std
    return m.clamp(0.0, float(mmax or LEVEL_DENOM))


class AugmentOp:
    """Base class of every op: probability, magnitude sampling, repr, PIL/tensor dispatch."""

    name: ClassVar[str] = ""
    #: the argument's sign is flipped 50/50 per call
    signed: ClassVar[bool] = False
    #: moves pixels (uses the resampling mode and the fill colour)
    geometric: ClassVar[bool] = False
    #: acts on colour only: alpha of RGBA / the 4th channel is kept
    colour_only: ClassVar[bool] = True
    #: apply_tensor_args already returns clipped values (8-bit levels for uint8 input)
    settled: ClassVar[bool] = False

    def __init__(
        self,
        p: float = 0.5,
        magnitude: float = 10,
        mstd: float = 0,
        mmax: float | None = None,
        hparams: OpHParams | dict[str, Any] | None = None,
    ) -> None:
        self._fills: dict[str, Any] = {}
        self.p = p
        self.magnitude = magnitude
        self.mstd = mstd
        self.mmax = mmax
        if isinstance(hparams, OpHParams):
            self.hparams = hparams
        else:
            try:
                self.hparams = OpHParams.model_validate(dict(hparams or {}))
            except ValueError as exc:
                raise ConfigError(f"invalid hparams for op {self.name}: {exc}") from None

    # -- what an op defines ------------------------------------------------------------------
    def level_args(self, f: Any, sign: Any) -> tuple:
        """The op's arguments at level ``f`` = magnitude/10 (float, or a tensor per sample)."""
        return LEVELS[self.name](f, sign, self.hparams)

    def apply_pil(self, img: Image.Image, *args: Any, resample: Any = None, fill: Any = None) -> Image.Image:
        """Apply to a PIL image with explicit arguments."""
        raise NotImplementedError

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """Apply to a working batch (float32 0..255) with per-sample arguments.

        ``x`` belongs to the op: it may be modified in place. The default goes through PIL
        sample by sample (1, 3 or 4 channels only).
        """
        modes = {1: "L", 3: "RGB", 4: "RGBA"}
        mode = modes.get(x.shape[1])
        if mode is None:
            raise ConfigError(f"op {self.name} has no tensor path for {x.shape[1]} channels")
        out = torch.empty_like(x)
        for i in range(x.shape[0]):
            arr = settle(x[i], True).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
            img = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode)
            vals = [a[i].item() if isinstance(a, torch.Tensor) else a for a in args]
            vals = [int(v) if float(v).is_integer() else v for v in vals]
            res = self.apply_pil(img, *vals, resample=pil_resample(ctx.modes[i] if ctx.modes else None),
                                 fill=pil_fill(mode, self.hparams.img_mean))
            t = torch.as_tensor(np.array(res), dtype=torch.float32)
            out[i] = (t.unsqueeze(-1) if t.dim() == 2 else t).permute(2, 0, 1).to(x.device)
        return out

    # -- sampling ------------------------------------------------------------------------------
    def _skip(self) -> bool:
        return self.p < 1.0 and random.random() > self.p

    def __call__(self, img: Any) -> Any:
        """Apply to a PIL image or a (C, H, W) / (N, C, H, W) tensor, with probability ``p``."""
        if isinstance(img, torch.Tensor):
            return self.apply_tensor(img)
        if self._skip():
            return img
        m = sample_magnitude(self.magnitude, self.mstd, self.mmax)
        sign = (-1.0 if random.random() > 0.5 else 1.0) if self.signed else 1.0
        args = self.level_args(m / LEVEL_DENOM, sign)
        resample = pil_resample(self.hparams.interpolation) if self.geometric else None
        fill = self._fills.get(img.mode)
        if fill is None:
            fill = self._fills[img.mode] = pil_fill(img.mode, self.hparams.img_mean)
        return self.apply_pil(img, *args, resample=resample, fill=fill)

    def apply_tensor(self, img: torch.Tensor) -> torch.Tensor:
        """Tensor call: each sample is applied with probability ``p`` and its own magnitude."""
        x, info = as_batch(img)
        return unbatch(self.apply_members(x, torch.arange(x.shape[0]), info), info)

    def apply_members(self, x: torch.Tensor, members: torch.Tensor, info: WorkInfo) -> torch.Tensor:
        """Apply to samples ``members`` (ascending CPU indices) of a user-dtype batch that belongs
        to the caller, each with probability ``p`` and its own magnitude; returns the batch.

        Only the samples that run are gathered and converted, so a small group costs little.
        """
        if self.p < 1.0:
            members = members[torch.rand(members.numel()) <= self.p]
        if members.numel() == 0:
            return x
        mags = sample_magnitudes(members.numel(), self.magnitude, self.mstd, self.mmax)
        if members.numel() == x.shape[0]:
            return self.run_user(x, mags, info)
        return put(x, members, self.run_user(take(x, members), mags, info))

    def run_user(self, x: torch.Tensor, magnitudes: torch.Tensor, info: WorkInfo) -> torch.Tensor:
        """Apply to a batch in the user's dtype (``info``) at the given per-sample magnitudes;
        ``x`` belongs to the op. The default converts to the working format and back."""
        return decode(self.run_batch(encode(x, info), magnitudes, info.exact), info)

    def tensor_ctx(self, x: torch.Tensor, exact: bool) -> TensorCtx:
        """Fill values, exactness and per-sample resampling modes for a working batch."""
        modes: list[str] = []
        if self.geometric:
            interp = self.hparams.interpolation
            if interp is None:
                modes = ["bicubic" if b else "bilinear" for b in (torch.rand(x.shape[0]) < 0.5).tolist()]
            else:
                modes = [interp] * x.shape[0]
        return TensorCtx(fill=fill_values(x.shape[1], self.hparams.img_mean), exact=exact, modes=modes)

    def sample_args(self, magnitudes: torch.Tensor, device: torch.device) -> tuple:
        """Per-sample arguments at ``magnitudes`` (with the random sign flip where the op has one)."""
        n = magnitudes.shape[0]
        if self.signed:
            sign = torch.where(torch.rand(n) > 0.5, -1.0, 1.0).double()
        else:
            sign = torch.ones(n, dtype=torch.float64)
        return tuple(a.to(device) for a in self.level_args(magnitudes / LEVEL_DENOM, sign))

    def run_batch(self, x: torch.Tensor, magnitudes: torch.Tensor, exact: bool) -> torch.Tensor:
        """Apply to every sample of a working batch at the given per-sample magnitudes."""
        args = self.sample_args(magnitudes, x.device)
        ctx = self.tensor_ctx(x, exact)
        if self.colour_only and x.shape[1] == 4:
            out = torch.cat((self.apply_tensor_args(x[:, :3], args, _ctx_channels(ctx, 3)), x[:, 3:]), dim=1)
        else:
            out = self.apply_tensor_args(x, args, ctx)
        return out if self.settled else settle(out, exact)

    def __repr__(self) -> str:
        text = f"AugmentOp(name={self.name}, p={self.p}, m={self.magnitude}, mstd={self.mstd}"
        if self.mmax is not None:
            text += f", mmax={self.mmax}"
        return text + ")"


def _ctx_channels(ctx: TensorCtx, c: int) -> TensorCtx:
    return TensorCtx(fill=ctx.fill[:c], exact=ctx.exact, modes=ctx.modes)


class BuiltinOp(AugmentOp):
    """An op whose PIL and tensor functions come from the builtin tables by ``name``."""

    settled = True

    def apply_pil(self, img: Image.Image, *args: Any, resample: Any = None, fill: Any = None) -> Image.Image:
        return PIL_OPS[self.name](img, *args, resample=resample, fill=fill)

    def run_user(self, x: torch.Tensor, magnitudes: torch.Tensor, info: WorkInfo) -> torch.Tensor:
        if not (info.exact and self.name in UINT8_NATIVE):
            return super().run_user(x, magnitudes, info)
        # 8-bit-level ops run on the uint8 samples themselves (alpha of RGBA kept as it is)
        fn = PIXEL_OPS[self.name]
        args = self.sample_args(magnitudes, x.device)
        ctx = self.tensor_ctx(x, True)
        if x.shape[1] == 4:
            x[:, :3] = fn(x[:, :3], args, _ctx_channels(ctx, 3))
            return x
        return fn(x, args, ctx)

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        fn = PIXEL_OPS.get(self.name) or GEOMETRIC_OPS.get(self.name) or OTHER_OPS[self.name]
        if self.geometric and x.shape[1] == 4 and "nearest" not in ctx.modes:
            # PIL resamples RGBA with premultiplied alpha; so do we, for 4-channel input
            return unpremultiply(fn(premultiply(x, ctx.exact), args, ctx), ctx.exact)
        return fn(x, args, ctx)


def _make_op(name: str) -> type[BuiltinOp]:
    summary = OP_TABLE[name][0]
    attrs = {
        "name": name,
        "signed": name in SIGNED,
        "geometric": name in GEOMETRIC_OPS,
        "colour_only": name in PIXEL_OPS,
        "__doc__": f"{summary} See docs/augment-ops.md for the PIL and tensor behaviour.",
        "__module__": __name__,
    }
    return type(name, (BuiltinOp,), attrs)


for _name in OP_TABLE:
    globals()[_name] = _make_op(_name)
del _name
