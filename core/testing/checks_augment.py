"""Conformance checks for augment components with role ``"op"`` and ``"policy"``.

They run over every registered op and policy, third-party ones included, on small (32x32) images.
Ops: PIL type/size/mode kept for L, RGB and RGBA; p=0 is the identity; seeded determinism; the
op is an ``AugmentOp`` (pimm.core.data.augment) and its repr names it; tensor ops (tag
``"tensor"``) keep dtype/shape for uint8 and float, single and batched, 1/3/4 channels, and agree
with the PIL path both for the op's own arguments and through a whole tensor call (unless tagged
``"stochastic"``); ops tagged ``"increasing"`` are near the identity at magnitude 0. Policies: build from their bare config
prefix, augment an image and a batch, and round-trip their parsed config.
"""

from __future__ import annotations

import random
from typing import Any

from .kit import ComponentRef, check, skip

_SIZE = 32
_POLICY_EXAMPLES = {"autoaugment": "v0"}


def _image(mode: str, seed: int = 0) -> Any:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:_SIZE, 0:_SIZE]
    base = np.stack([xx * 7, yy * 7, (xx + yy) * 4, 255 - xx * 3], -1) + rng.integers(0, 40, (_SIZE, _SIZE, 4))
    arr = (base % 256).astype(np.uint8)
    if mode == "L":
        return Image.fromarray(arr[..., 0], "L")
    return Image.fromarray(np.ascontiguousarray(arr[..., : len(mode)]), mode)


def _seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _require_role(component: ComponentRef, role: str) -> None:
    """Skip unless the component's spec has ``role`` (the ``role:`` selection tag normally ensures it)."""
    if getattr(component.spec, "role", None) != role:
        skip(f"not an augment {role}")


def _op(component: ComponentRef, **options: Any) -> Any:
    _require_role(component, "op")
    options.setdefault("p", 1.0)
    options.setdefault("magnitude", 7)
    options.setdefault("hparams", {"interpolation": "bilinear", "img_mean": (124, 116, 104)})
    return component.create(**options)


def _as_array(img: Any) -> Any:
    import numpy as np

    return np.asarray(img).astype(np.int64)


@check("augment", requires=("role:op",))
def check_op_pil_keeps_type_size_mode(component: ComponentRef) -> None:
    """PIL in, PIL out: same size and mode for L, RGB and RGBA."""
    from PIL import Image

    op = _op(component)
    for mode in ("L", "RGB", "RGBA"):
        img = _image(mode)
        for seed in range(4):
            _seed(seed)
            out = op(img)
            if not (isinstance(out, Image.Image)):
                raise AssertionError(f"{mode}: returned {type(out).__name__}, not a PIL image")
            if not (out.size == img.size):
                raise AssertionError(f"{mode}: size {out.size} != {img.size}")
            if not (out.mode == img.mode):
                raise AssertionError(f"{mode}: mode {out.mode} != {img.mode}")


@check("augment", requires=("role:op",))
def check_op_p0_is_identity(component: ComponentRef) -> None:
    """With p=0 the op never applies."""
    op = _op(component, p=0.0)
    img = _image("RGB")
    if not ((_as_array(op(img)) == _as_array(img)).all()):
        raise AssertionError("p=0 changed the image")


@check("augment", requires=("role:op",))
def check_op_seeded_determinism(component: ComponentRef) -> None:
    """Same seeds, same result (PIL path; tensor path too for tensor ops)."""
    op = _op(component, mstd=0.5)
    img = _image("RGB")
    for seed in range(3):
        _seed(seed)
        first = _as_array(op(img))
        _seed(seed)
        if not ((first == _as_array(op(img))).all()):
            raise AssertionError("PIL results differ under the same seed")
    if "tensor" in component.spec.tags:
        import torch

        batch = torch.from_numpy(_as_array(img)).permute(2, 0, 1).to(torch.uint8).unsqueeze(0).repeat(3, 1, 1, 1)
        _seed(1)
        first_t = op(batch)
        _seed(1)
        if not (torch.equal(first_t, op(batch))):
            raise AssertionError("tensor results differ under the same seed")


@check("augment", requires=("role:op",))
def check_op_is_augment_op(component: ComponentRef) -> None:
    """The op is a ``pimm.core.data.augment.AugmentOp``, so policies can sample and apply it."""
    from pimm.core.data.augment import AugmentOp

    op = _op(component)
    if not isinstance(op, AugmentOp):
        raise AssertionError(
            f"{type(op).__name__} is not a subclass of pimm.core.data.augment.AugmentOp; op components "
            "must be, so RandAugment/AutoAugment/AugMix can draw their magnitudes and apply them"
        )


@check("augment", requires=("role:op",))
def check_op_repr(component: ComponentRef) -> None:
    """The repr names the op and shows its probability, magnitude and magnitude noise."""
    text = repr(_op(component, magnitude=9, mstd=0.5))
    if component.spec.name not in text:
        raise AssertionError(f"repr {text!r} does not name the op {component.spec.name!r}")
    if not ("p=1.0" in text and "m=9" in text and "mstd=0.5" in text):
        raise AssertionError(f"repr {text!r} does not show p=1.0, m=9 and mstd=0.5")


@check("augment", requires=("role:op", "increasing"))
def check_op_increasing_magnitude0_near_identity(component: ComponentRef) -> None:
    """Magnitude 0 changes the image little (mean ≤ 8 levels) and less than magnitude 10."""
    img = _image("RGB")
    ref = _as_array(img)
    diffs = []
    for magnitude in (0, 10):
        op = _op(component, magnitude=magnitude)
        total = 0.0
        for seed in range(4):
            _seed(seed)
            total += abs(_as_array(op(img)) - ref).mean()
        diffs.append(total / 4)
    if not (diffs[0] <= 8.0):
        raise AssertionError(f"magnitude 0 changes the image by {diffs[0]:.2f} levels on average")
    if not (diffs[0] < diffs[1]):
        raise AssertionError(f"magnitude 0 ({diffs[0]:.2f}) is not closer to identity than 10 ({diffs[1]:.2f})")


@check("augment", requires=("role:op", "tensor"))
def check_op_tensor_io(component: ComponentRef) -> None:
    """uint8 and float, (C,H,W) and (N,C,H,W), 1/3/4 channels: shape, dtype and device kept."""
    import torch

    op = _op(component)
    _seed(0)
    for channels in (1, 3, 4):
        u8 = torch.randint(0, 256, (3, channels, _SIZE, _SIZE), dtype=torch.uint8)
        for x in (u8, u8[0], u8.float() / 255, (u8[0].float() / 255).double()):
            out = op(x)
            if not (isinstance(out, torch.Tensor)):
                raise AssertionError(f"returned {type(out).__name__}")
            if not (out.shape == x.shape):
                raise AssertionError(f"shape {tuple(out.shape)} != {tuple(x.shape)}")
            if not (out.dtype == x.dtype):
                raise AssertionError(f"dtype {out.dtype} != {x.dtype}")
            if not (out.device == x.device):
                raise AssertionError('check failed: out.device == x.device')
            if out.is_floating_point():
                if not (float(out.min()) >= 0.0 and float(out.max()) <= 1.0):
                    raise AssertionError("float output left [0, 1]")


@check("augment", requires=("role:op", "tensor"), excludes=("stochastic",))
def check_op_tensor_matches_pil(component: ComponentRef) -> None:
    """Same arguments on both paths give the same pixels within rounding (bilinear resampling)."""
    import numpy as np
    import torch
    from PIL import Image

    from pimm.core.data.augment import from_work, pil_fill, to_work

    op = _op(component)

    for mode in ("RGB", "L", "RGBA"):
        img = _image(mode, seed=3)
        arr = np.asarray(img)
        arr = arr[..., None] if arr.ndim == 2 else arr
        x = torch.from_numpy(np.array(arr)).permute(2, 0, 1).unsqueeze(0)
        for sign in (1.0, -1.0):
            args = op.level_args(0.7, sign)
            random.seed(5)  # ops drawing Python randoms inside get the same draws on both paths
            ref = op.apply_pil(img, *args, resample=Image.Resampling.BILINEAR,
                               fill=pil_fill(mode, op.hparams.img_mean))
            ref = np.asarray(ref).astype(np.int64).reshape(arr.shape)
            work, info = to_work(x)
            t_args = tuple(torch.tensor([float(a)], dtype=torch.float64) for a in args)
            ctx = op.tensor_ctx(work, True)
            ctx.modes = ["bilinear"] if ctx.modes else []
            random.seed(5)
            if op.colour_only and work.shape[1] == 4:
                rgb = op.apply_tensor_args(work[:, :3], t_args, ctx.channels(3))
                work = torch.cat((rgb, work[:, 3:]), dim=1)
            else:
                work = op.apply_tensor_args(work, t_args, ctx)
            got = from_work(work, info)[0].permute(1, 2, 0).numpy().astype(np.int64)
            diff = np.abs(got - ref)
            if not (diff.mean() <= 0.5 and (diff > 1).mean() <= 0.01):
                raise AssertionError(f"{mode}, sign {sign}: tensor and PIL differ (mean {diff.mean():.3f}, max {diff.max()}, "
                f"{(diff > 1).mean():.2%} of values by more than 1)")


@check("augment", requires=("role:op", "tensor"), excludes=("stochastic",))
def check_op_tensor_call_matches_pil(component: ComponentRef) -> None:
    """A whole tensor call (p=1, no noise) on a uint8 batch gives, per sample, the PIL result at the
    same magnitude with one of the two signs (within rounding): the call path really applies the op."""
    import numpy as np
    import torch
    from PIL import Image

    op = _op(component)
    img = _image("RGB", seed=3)
    arr = np.asarray(img).astype(np.int64)
    refs = []
    for sign in ((1.0, -1.0) if op.signed else (1.0,)):
        random.seed(5)
        ref = op.apply_pil(img, *op.level_args(0.7, sign), resample=Image.Resampling.BILINEAR,
                           fill=(124, 116, 104))
        refs.append(np.asarray(ref).astype(np.int64))
    batch = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).unsqueeze(0).repeat(4, 1, 1, 1)
    _seed(0)
    out = op(batch)
    for i in range(batch.shape[0]):
        got = out[i].permute(1, 2, 0).numpy().astype(np.int64)
        diffs = [np.abs(got - ref) for ref in refs]
        best = min(diffs, key=lambda d: d.mean())
        if not (best.mean() <= 0.5 and (best > 1).mean() <= 0.01):
            changed = "unchanged input" if (got == arr).all() else f"mean difference {best.mean():.3f}"
            raise AssertionError(f"sample {i}: the tensor call differs from the PIL op at magnitude 7 ({changed})")


def _policy_config(component: ComponentRef) -> str:
    _require_role(component, "policy")
    config = getattr(component.spec, "config_prefix", None) or _POLICY_EXAMPLES.get(component.name)
    if config is None:
        skip(f"policy {component.name!r} has no config_prefix to build a default instance from")
    return config


@check("augment", requires=("role:policy",))
def check_policy_applies(component: ComponentRef) -> None:
    """Built from its bare prefix, the policy augments a PIL image and a uint8 batch."""
    import torch
    from PIL import Image

    policy = component.create(config=_policy_config(component))
    _seed(0)
    out = policy(_image("RGB"))
    if not (isinstance(out, Image.Image) and out.size == (_SIZE, _SIZE) and out.mode == "RGB"):
        raise AssertionError('check failed: isinstance(out, Image.Image) and out.size == (_SIZE, _SIZE) and out.mode == "RGB"')
    batch = torch.randint(0, 256, (4, 3, _SIZE, _SIZE), dtype=torch.uint8)
    try:
        out_t = policy(batch)
    except (TypeError, NotImplementedError):
        return  # a policy may be PIL-only
    if not (out_t.shape == batch.shape and out_t.dtype == batch.dtype):
        raise AssertionError('check failed: out_t.shape == batch.shape and out_t.dtype == batch.dtype')


@check("augment", requires=("role:policy",))
def check_policy_config_round_trip(component: ComponentRef) -> None:
    """Its parsed config turns back into a string that builds an equal config and the same repr."""
    policy = component.create(config=_policy_config(component))
    config = getattr(policy, "config", None)
    if config is None or not hasattr(config, "to_string"):
        skip("policy exposes no parsed config with to_string()")
    again = component.create(config=config.to_string())
    if not (again.config == config):
        raise AssertionError(f"{config.to_string()!r} parsed to {again.config!r}, not {config!r}")
    if not (repr(again) == repr(policy)):
        raise AssertionError('check failed: repr(again) == repr(policy)')
