"""The base class of every augment op, builtin or third-party: :class:`AugmentOp`.

An op is called on a PIL image (Python ``random`` draws: apply/skip, magnitude, sign, resampling —
the order timm uses) or on a tensor: a (C, H, W) image or an (N, C, H, W) batch, uint8 (0..255) or
floating (0..1), where every sample draws its own apply/skip, magnitude and sign (torch's CPU
generator, so results do not depend on the device).

An op subclass sets :attr:`AugmentOp.name` and implements :meth:`AugmentOp.level_args` (the
magnitude → argument mapping) and :meth:`AugmentOp.apply_pil`. It may add a native tensor path,
:meth:`AugmentOp.apply_tensor_args`; without one, tensors go through ``apply_pil`` sample by sample.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from ...errors import ConfigError
from .magnitude import LEVEL_DENOM, sample_magnitude, sample_magnitudes
from .options import OpHParams
from .pil import pil_fill, pil_resample
from .tensor_io import TensorCtx, WorkInfo, as_batch, decode, encode, fill_values, put, settle, take, unbatch

__all__ = ["AugmentOp"]

_PIL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


class AugmentOp:
    """An image op with probability ``p``, magnitude ``magnitude`` (0..10 scale, noise ``mstd``, clip
    ``mmax``) and the policy's shared ``hparams``; see the module docstring for the contract."""

    #: the registered name; also shown by the repr
    name: ClassVar[str] = ""
    #: the argument's sign is flipped 50/50 per call (``level_args`` then receives sign ±1)
    signed: ClassVar[bool] = False
    #: moves pixels: gets a resampling filter and the fill colour
    geometric: ClassVar[bool] = False
    #: acts on colour only: alpha of RGBA / the 4th channel of a tensor is kept as it is
    colour_only: ClassVar[bool] = True
    #: ``apply_tensor_args`` already returns clipped values (8-bit levels for uint8 input)
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
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"invalid hparams for op {self.name}: {exc}") from None

    # -- what an op defines ------------------------------------------------------------------
    def level_args(self, f: Any, sign: Any) -> tuple:
        """The op's argument tuple at level ``f`` = magnitude / 10.

        On the PIL path ``f`` and ``sign`` are Python floats; on the tensor path they are float64
        1-D tensors with one value per sample (``sign`` is ±1, or all 1 for unsigned ops), and the
        returned arguments must be tensors of that length too (or plain numbers shared by all).
        """
        raise NotImplementedError(f"op {type(self).__name__} must define level_args(f, sign)")

    def apply_pil(self, img: Image.Image, *args: Any, resample: Any = None, fill: Any = None) -> Image.Image:
        """Apply to a PIL image ('L', 'RGB' or 'RGBA') with the arguments of :meth:`level_args`.

        ``resample`` is a PIL filter for geometric ops (None otherwise); ``fill`` the fill colour for
        ``img.mode``.
        """
        raise NotImplementedError(f"op {type(self).__name__} must define apply_pil(img, *args, resample, fill)")

    def apply_tensor_args(self, x: torch.Tensor, args: tuple, ctx: TensorCtx) -> torch.Tensor:
        """Apply to a working batch: float32 (N, C, H, W) on the 0..255 scale, one argument per sample.

        ``x`` belongs to the op (it may be modified in place). The default runs :meth:`apply_pil`
        on each sample (1, 3 or 4 channels only).
        """
        mode = _PIL_MODES.get(x.shape[1])
        if mode is None:
            raise ConfigError(f"op {self.name} has no tensor path for {x.shape[1]} channels; use 1, 3 or 4")
        out = torch.empty_like(x)
        fill = pil_fill(mode, self.hparams.img_mean)
        for i in range(x.shape[0]):
            arr = settle(x[i], True).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
            img = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode)
            vals = [a[i].item() if isinstance(a, torch.Tensor) else a for a in args]
            vals = [int(v) if float(v).is_integer() else v for v in vals]
            resample = pil_resample(ctx.modes[i]) if ctx.modes else None
            res = np.array(self.apply_pil(img, *vals, resample=resample, fill=fill))
            t = torch.as_tensor(res, dtype=torch.float32)
            out[i] = (t.unsqueeze(-1) if t.dim() == 2 else t).permute(2, 0, 1).to(x.device)
        return out

    # -- PIL call ------------------------------------------------------------------------------
    def __call__(self, img: Any) -> Any:
        """Apply to a PIL image or a (C, H, W) / (N, C, H, W) tensor, with probability ``p``."""
        if isinstance(img, torch.Tensor):
            return self.apply_tensor(img)
        if not isinstance(img, Image.Image):
            raise ConfigError(
                f"op {self.name} takes a PIL image or a uint8/float tensor, got {type(img).__name__}"
            )
        # Python random draws, in timm's order: apply?, magnitude, sign, then resampling
        if self.p < 1.0 and random.random() > self.p:
            return img
        m = sample_magnitude(self.magnitude, self.mstd, self.mmax)
        sign = (-1.0 if random.random() > 0.5 else 1.0) if self.signed else 1.0
        args = self.level_args(m / LEVEL_DENOM, sign)
        resample = pil_resample(self.hparams.interpolation) if self.geometric else None
        fill = self._fills.get(img.mode)
        if fill is None:
            fill = self._fills[img.mode] = pil_fill(img.mode, self.hparams.img_mean)
        return self.apply_pil(img, *args, resample=resample, fill=fill)

    # -- tensor call ---------------------------------------------------------------------------
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
        ``x`` belongs to the op. The default converts to the working format and back; an op that
        works on uint8 directly may override it."""
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
        args = self.level_args(magnitudes / LEVEL_DENOM, sign)
        return tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in args)

    def run_batch(self, x: torch.Tensor, magnitudes: torch.Tensor, exact: bool) -> torch.Tensor:
        """Apply to every sample of a working batch at the given per-sample magnitudes."""
        args = self.sample_args(magnitudes, x.device)
        ctx = self.tensor_ctx(x, exact)
        if self.colour_only and x.shape[1] == 4:
            out = torch.cat((self.apply_tensor_args(x[:, :3], args, ctx.channels(3)), x[:, 3:]), dim=1)
        else:
            out = self.apply_tensor_args(x, args, ctx)
        return out if self.settled else settle(out, exact)

    def __repr__(self) -> str:
        text = f"AugmentOp(name={self.name}, p={self.p}, m={self.magnitude}, mstd={self.mstd}"
        if self.mmax is not None:
            text += f", mmax={self.mmax}"
        return text + ")"
