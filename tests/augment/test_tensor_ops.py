"""The tensor path: uint8/float, single/batched, 1/3/4/13 channels, per-sample parameters, devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pimm import core
from pimm.core.data import augment_policy_from_config, rand_augment_transform
from pimm.core.errors import ConfigError
from pimm.core.factory import load_target, resolve
from pimm.core.data.augment import AugmentOp, TensorCtx, WorkInfo, fill_values, from_work, to_work
from pimm.plugins.augment.op_specs import OP_SPECS

ALL_OPS = [spec.name for spec in OP_SPECS]
# the 8-bit-level ops that run on uint8 batches directly
UINT8_NATIVE = {spec.name for spec in OP_SPECS if getattr(load_target(resolve("augment", spec.name)), "uint8_native", False)}
HP = {"img_mean": (124, 116, 104), "interpolation": "bilinear", "translate_const": 10}


def _batch(n: int = 6, c: int = 3, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    base = torch.stack([(xx * 7 + yy * k) for k in range(c)]).remainder(256)
    noise = torch.randint(0, 30, (n, c, size, size), generator=g)
    return (base.unsqueeze(0) + noise).remainder(256).to(torch.uint8)


_STOCHASTIC = {"Cutout", "GaussianBlurRand"}
_PIL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def _pil_results(op, sample: torch.Tensor) -> list[np.ndarray]:
    """The PIL op at magnitude 8 on one (C, H, W) uint8 sample, for each sign the op can draw."""
    from PIL import Image

    from pimm.core.data.augment import pil_fill

    mode = _PIL_MODES[sample.shape[0]]
    arr = sample.permute(1, 2, 0).numpy()
    img = Image.fromarray(arr[..., 0] if mode == "L" else np.ascontiguousarray(arr), mode)
    results = []
    for sign in ((1.0, -1.0) if op.signed else (1.0,)):
        out = op.apply_pil(img, *op.level_args(0.8, sign), resample=Image.Resampling.BILINEAR,
                           fill=pil_fill(mode, op.hparams.img_mean))
        results.append(np.asarray(out).astype(int).reshape(arr.shape))
    return results


@pytest.mark.parametrize("name", ALL_OPS)
@pytest.mark.parametrize("channels", [1, 3, 4, 13])
def test_every_op_runs_on_any_channel_count(name, channels):
    """Shape and dtype kept, and the values are right: every sample equals the PIL op at the same
    magnitude (1/3/4 channels), the op changes a low-contrast image (a do-nothing op fails), and
    float input gives the uint8 result within rounding."""
    op = core.create("augment", name, p=1.0, magnitude=8, hparams=HP)
    x = (_batch(3, channels).float() * 0.7 + 40).to(torch.uint8)  # levels 40..218: not full range
    torch.manual_seed(0)
    out = op(x)
    assert out.shape == x.shape and out.dtype == torch.uint8
    saturation = name in ("Color", "ColorIncreasing", "Desaturate")
    if not (saturation and channels == 1):  # saturation of a single channel is the identity
        changed = [not torch.equal(out[i], x[i]) for i in range(x.shape[0])]
        # GaussianBlurRand may draw a radius too small to move any 8-bit level
        assert all(changed) or (name == "GaussianBlurRand" and any(changed)), f"{name} left samples unchanged"
    if channels in _PIL_MODES and name not in _STOCHASTIC:
        for i in range(x.shape[0]):
            got = out[i].permute(1, 2, 0).numpy().astype(int)
            diff = min((np.abs(got - ref) for ref in _pil_results(op, x[i])), key=lambda d: d.mean())
            assert diff.mean() <= 0.5 and (diff > 1).mean() <= 0.01, (name, channels, i, diff.mean())
    torch.manual_seed(0)
    out_f = op(x.float() / 255)
    assert out_f.dtype == torch.float32 and 0.0 <= float(out_f.min()) and float(out_f.max()) <= 1.0
    if name not in _STOCHASTIC:
        assert (out_f * 255 - out.float()).abs().mean() < 1.5, name


@pytest.mark.parametrize("name", [s.name for s in OP_SPECS if "signed" in s.tags])
def test_signed_ops_draw_each_sign_per_sample(name):
    """16 copies of one image: some samples get the + argument, some the - one (50/50 per sample)."""
    op = core.create("augment", name, p=1.0, magnitude=8, hparams=HP)
    x = (_batch(1).float() * 0.7 + 40).to(torch.uint8).repeat(16, 1, 1, 1)
    torch.manual_seed(0)
    out = op(x)
    plus, minus = _pil_results(op, x[0])
    sides = []
    for i in range(16):
        got = out[i].permute(1, 2, 0).numpy().astype(int)
        sides.append(np.abs(got - plus).mean() < np.abs(got - minus).mean())
    assert 2 <= sum(sides) <= 14, (name, sum(sides))


def test_pixel_ops_keep_the_fourth_channel():
    x = _batch(4, 4)
    for name in ("Invert", "Equalize", "AutoContrast", "Solarize", "Color", "Contrast", "Brightness", "Sharpness"):
        out = core.create("augment", name, p=1.0, magnitude=6)(x)
        assert torch.equal(out[:, 3], x[:, 3]), name
        assert not torch.equal(out[:, :3], x[:, :3]), name


def test_fill_values_per_channel_count():
    mean = (124, 116, 104)
    assert fill_values(3, mean).tolist() == [124, 116, 104]
    assert fill_values(4, mean).tolist() == [124, 116, 104, 255]
    assert fill_values(1, mean).tolist() == [117]
    assert fill_values(13, mean).tolist() == [pytest.approx(344 / 3)] * 13


def test_batch_samples_get_independent_parameters():
    x = _batch(1).repeat(16, 1, 1, 1)
    op = core.create("augment", "Rotate", p=1.0, magnitude=5, mstd=1.0, hparams=HP)
    torch.manual_seed(0)
    out = op(x)
    distinct = {out[i].numpy().tobytes() for i in range(16)}
    assert len(distinct) == 16
    half = core.create("augment", "Invert", p=0.5)(x)
    applied = sum(not torch.equal(half[i], x[i]) for i in range(16))
    assert 0 < applied < 16


def test_single_image_and_seeded_determinism():
    x = _batch(1)[0]
    ra = rand_augment_transform("rand-m9-mstd0.5-n3", HP)
    torch.manual_seed(3)
    a = ra(x)
    torch.manual_seed(3)
    assert a.shape == x.shape and torch.equal(a, ra(x))


def test_uint8_and_float_inputs_agree():
    x = _batch(4)
    for name in ("Rotate", "Color", "Contrast", "Posterize", "Equalize", "ShearX", "Sharpness"):
        op = core.create("augment", name, p=1.0, magnitude=6, hparams=HP)
        torch.manual_seed(1)
        a = op(x).float()
        torch.manual_seed(1)
        b = op(x.float() / 255) * 255
        assert (a - b).abs().mean() < 1.0, name


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_tensor_ops_equal_the_pil_path(mode):
    from PIL import Image

    arr = _batch(1)[0].permute(1, 2, 0).numpy().copy()
    img = Image.fromarray(arr)
    resample = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
                "nearest": Image.Resampling.NEAREST}[mode]
    for name in ALL_OPS:
        op = core.create("augment", name, p=1.0, magnitude=7, hparams=HP)
        if name in ("Cutout", "GaussianBlurRand") or (mode != "bilinear" and not op.geometric):
            continue
        for sign in (1.0, -1.0):
            args = op.level_args(0.7, sign)
            ref = np.asarray(op.apply_pil(img, *args, resample=resample, fill=(124, 116, 104)))
            x, info = to_work(torch.from_numpy(arr).permute(2, 0, 1))
            ctx = TensorCtx(fill=fill_values(3, (124, 116, 104)), exact=True, modes=[mode] if op.geometric else [])
            got = from_work(op.apply_tensor_args(x, tuple(torch.tensor([float(a)]) for a in args), ctx), info)
            diff = np.abs(got.permute(1, 2, 0).numpy().astype(int) - ref.astype(int))
            assert diff.max() <= 1 and diff.mean() < 0.02, (name, mode, sign, diff.max(), diff.mean())


@pytest.mark.parametrize("name", sorted(UINT8_NATIVE))
@pytest.mark.parametrize("channels", [1, 3, 4, 13])
def test_uint8_native_ops_equal_the_float_path_and_pil(name, channels):
    """The uint8 fast path of the 8-bit-level ops gives the float working path's bytes at every
    magnitude (0 and 10 included: posterize to 0/8 bits, solarize at 0/256), and PIL's per sample."""
    from PIL import Image

    op = core.create("augment", name, p=1.0, magnitude=5, hparams=HP)
    x = _batch(11, channels)
    mags = torch.linspace(0, 10, 11, dtype=torch.float64)
    info = WorkInfo(single=False, dtype=torch.uint8)
    torch.manual_seed(0)
    fast = op.run_user(x.clone(), mags, info)
    torch.manual_seed(0)
    slow = AugmentOp.run_user(op, x.clone(), mags, info)
    assert fast.dtype == torch.uint8 and torch.equal(fast, slow), name
    if channels in (3, 4):
        mode = "RGB" if channels == 3 else "RGBA"
        for i in range(11):
            img = Image.fromarray(x[i].permute(1, 2, 0).numpy().copy(), mode)
            args = op.level_args(float(mags[i]) / 10, 1.0)
            ref = np.asarray(op.apply_pil(img, *args))
            assert np.array_equal(fast[i].permute(1, 2, 0).numpy(), ref), (name, i)


@pytest.mark.parametrize("config", ["rand-m9-mstd0.5", "rand-m9-mstd0.5-inc1", "rand-tweights-n3", "v0",
                                    "original-mstd0.5", "3a", "augmix-m3-w3-d-1-a1-b0"])
def test_policies_on_a_batch_in_one_call(config):
    x = _batch(8)
    policy = augment_policy_from_config(config, HP)
    torch.manual_seed(0)
    out = policy(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert len({out[i].numpy().tobytes() for i in range(8)}) > 1
    assert policy(x[0]).shape == x[0].shape
    out_f = policy(x.float() / 255)
    assert out_f.dtype == torch.float32


def test_bad_tensors_are_clear_errors():
    op = core.create("augment", "Invert", p=1.0)
    with pytest.raises(ConfigError, match="shape"):
        op(torch.zeros(32, 32, dtype=torch.uint8))
    with pytest.raises(ConfigError, match="dtype"):
        op(torch.zeros(3, 8, 8, dtype=torch.int32))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_follows_the_input_and_matches_cpu():
    x = _batch(8)
    for name in ALL_OPS:
        op = core.create("augment", name, p=1.0, magnitude=7, hparams=HP)
        torch.manual_seed(0)
        cpu = op(x)
        torch.manual_seed(0)
        gpu = op(x.cuda())
        assert gpu.device.type == "cuda"
        if name not in ("GaussianBlurRand",):
            assert (gpu.cpu().float() - cpu.float()).abs().mean() < 0.05, name
    ra = rand_augment_transform("rand-m9-mstd0.5", HP)
    assert ra(x.cuda()).device.type == "cuda"
