"""The RandAugment-style ops on PIL images: magnitude → argument numbers, sampling, repr, fill."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from PIL import Image

from pimm import core
from pimm.core.errors import ConfigError, OptionsError
from pimm.core.data.augment import LEVEL_DENOM, sample_magnitude
from pimm.plugins.augment.op_specs import OP_SPECS

ALL_OPS = [spec.name for spec in OP_SPECS]


def level_args(name: str, magnitude: float, sign: float = 1.0) -> tuple:
    """The arguments builtin op ``name`` computes at ``magnitude`` (0..10 scale) with ``sign``."""
    return core.create("augment", name).level_args(magnitude / LEVEL_DENOM, sign)


def _image(mode: str = "RGB", size: int = 32) -> Image.Image:
    yy, xx = np.mgrid[0:size, 0:size]
    arr = np.stack([xx * 7, yy * 7, (xx + yy) * 4, 200 + xx], -1) % 256
    arr = arr.astype(np.uint8)
    if mode == "L":
        return Image.fromarray(arr[..., 0], "L")
    return Image.fromarray(np.ascontiguousarray(arr[..., : len(mode)]), mode)


def test_every_op_is_registered_with_the_shared_options():
    names = core.list_names("augment")
    for name in ALL_OPS:
        assert name in names
        spec = core.get_spec("augment", name)
        assert spec.role == "op" and "tensor" in spec.tags
        assert set(spec.options.model_fields) == {"p", "magnitude", "mstd", "mmax", "hparams"}
    assert {n for n in ALL_OPS if "increasing" in core.get_spec("augment", n).tags} == {
        "PosterizeIncreasing", "SolarizeIncreasing", "ColorIncreasing", "ContrastIncreasing",
        "BrightnessIncreasing", "SharpnessIncreasing",
    }


@pytest.mark.parametrize(
    ("name", "sign", "expected"),
    [
        ("Rotate", 1, 27.0), ("Rotate", -1, -27.0), ("ShearX", 1, 0.27), ("ShearY", -1, -0.27),
        ("TranslateXRel", 1, 0.405), ("TranslateYRel", -1, -0.405), ("TranslateX", 1, 225.0),
        ("Posterize", 1, 3), ("PosterizeIncreasing", 1, 1), ("PosterizeOriginal", 1, 7),
        ("Solarize", 1, 230), ("SolarizeIncreasing", 1, 26), ("SolarizeAdd", 1, 99),
        ("Color", 1, 1.72), ("Contrast", 1, 1.72), ("Brightness", 1, 1.72), ("Sharpness", 1, 1.72),
        ("ColorIncreasing", 1, 1.81), ("ContrastIncreasing", -1, 0.19), ("BrightnessIncreasing", 1, 1.81),
        ("SharpnessIncreasing", -1, 0.19), ("Desaturate", 1, 0.95), ("GaussianBlur", 1, 1.81),
        ("GaussianBlurRand", 1, 0.9), ("Cutout", 1, 36),
    ],
)
def test_magnitude_9_arguments_match_timm(name, sign, expected):
    (value,) = level_args(name, 9, sign)
    assert value == pytest.approx(expected)


def test_level_extremes():
    assert level_args("Solarize", 10) == (256,)  # identity threshold
    assert level_args("SolarizeIncreasing", 0) == (256,)
    assert level_args("SolarizeAdd", 10) == (110,)
    assert level_args("Posterize", 0) == (0,)
    assert level_args("ColorIncreasing", 10, -1) == (pytest.approx(0.1),)  # clamped at 0.1
    assert level_args("Color", 0) == (pytest.approx(0.1),)
    assert level_args("AutoContrast", 5) == ()


def test_magnitude_sampling_rules():
    random.seed(0)
    assert sample_magnitude(9, 0, None) == 9
    assert sample_magnitude(15, 0, None) == 10  # clipped to 10 without mmax
    assert sample_magnitude(15, 0, 20) == 15
    for std in (math.inf, -math.inf, 101):
        draws = [sample_magnitude(8, std, None) for _ in range(400)]
        assert min(draws) >= 0 and max(draws) <= 8
        assert np.mean(draws) == pytest.approx(4, abs=0.5)  # uniform in [0, 8]
    draws = [sample_magnitude(5, 1.0, None) for _ in range(2000)]
    assert np.mean(draws) == pytest.approx(5, abs=0.1) and np.std(draws) == pytest.approx(1, abs=0.1)


def test_sign_flip_is_50_50_for_signed_ops_only():
    seen = {"Rotate": [], "Color": []}
    for name in seen:
        op = core.create("augment", name, p=1.0, magnitude=9)
        op.apply_pil = lambda img, *args, _n=name, **kw: seen[_n].append(args[0]) or img
        random.seed(1)
        for _ in range(400):
            op(_image())
    rot = np.array(seen["Rotate"])
    assert set(np.round(np.abs(rot), 6)) == {27.0} and 150 < (rot < 0).sum() < 250
    assert set(np.round(seen["Color"], 6)) == {1.72}


def test_repr_matches_timm_format():
    op = core.create("augment", "Rotate", p=0.5, magnitude=9, mstd=0.5)
    assert repr(op) == "AugmentOp(name=Rotate, p=0.5, m=9, mstd=0.5)"
    op = core.create("augment", "Rotate", magnitude=9, mstd=0.5, mmax=15)
    assert repr(op) == "AugmentOp(name=Rotate, p=0.5, m=9, mstd=0.5, mmax=15)"
    assert repr(core.create("augment", "Invert")) == "AugmentOp(name=Invert, p=0.5, m=10, mstd=0)"


def test_probability_gates_application():
    op = core.create("augment", "Invert", p=0.3)
    img = _image()
    random.seed(0)
    applied = sum(not np.array_equal(np.asarray(op(img)), np.asarray(img)) for _ in range(500))
    assert 110 < applied < 190


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_fill_uses_img_mean_adapted_to_the_mode(mode):
    op = core.create("augment", "TranslateXRel", p=1.0, magnitude=10,
                     hparams={"img_mean": (124, 116, 104), "interpolation": "nearest"})
    out = np.asarray(op(_image(mode)))
    expected = {"L": 117, "RGB": [124, 116, 104], "RGBA": [124, 116, 104, 255]}[mode]
    # the shift (45% of the width) goes left or right at random: one edge column is all fill
    edges = [out[:, 0], out[:, -1]]
    assert any(all(np.asarray(px).tolist() == expected for px in col) for col in edges)


def test_rgba_pixel_ops_keep_alpha():
    img = _image("RGBA")
    alpha = np.asarray(img)[..., 3]
    for name in ("Invert", "Equalize", "AutoContrast", "Posterize", "Solarize", "SolarizeAdd", "Color", "Contrast"):
        out = core.create("augment", name, p=1.0, magnitude=5)(img)
        assert out.mode == "RGBA" and np.array_equal(np.asarray(out)[..., 3], alpha), name


def test_posterize_zero_bits_is_black_not_an_error():
    out = core.create("augment", "PosterizeIncreasing", p=1.0, magnitude=10)(_image())
    assert np.asarray(out).max() == 0


def test_unsupported_mode_is_a_clear_error():
    with pytest.raises(ConfigError, match="mode 'P'"):
        core.create("augment", "Invert", p=1.0)(_image().convert("P"))


def test_hparams_are_validated():
    op = core.create("augment", "Rotate", hparams={"interpolation": 3, "img_mean": [124.4, 116.0, 104.0]})
    assert op.hparams.interpolation == "bicubic" and op.hparams.img_mean == (124, 116, 104)
    assert core.create("augment", "Rotate", hparams={"interpolation": "random"}).hparams.interpolation is None
    with pytest.raises(OptionsError, match="interpolation"):
        core.create("augment", "Rotate", hparams={"interpolation": "lanczos"})
    with pytest.raises(OptionsError, match="translate_cnst"):
        core.create("augment", "Rotate", hparams={"translate_cnst": 3})
    with pytest.raises(OptionsError, match="'p'"):
        core.create("augment", "Rotate", p=1.5)


def test_cutout_fills_a_square():
    op = core.create("augment", "Cutout", p=1.0, magnitude=10, hparams={"cutout_const": 4, "img_mean": (1, 2, 3)})
    random.seed(3)
    out = np.asarray(op(_image(size=32)))
    filled = (out == [1, 2, 3]).all(-1)
    assert 0 < filled.sum() <= 64


def test_blur_ops_smooth():
    img = _image()
    for name in ("GaussianBlur", "GaussianBlurRand"):
        out = np.asarray(core.create("augment", name, p=1.0, magnitude=10)(img)).astype(float)
        assert np.abs(np.diff(out, axis=1)).mean() < np.abs(np.diff(np.asarray(img, float), axis=1)).mean()


@pytest.mark.parametrize(
    "options",
    [{"magnitude": float("nan")}, {"magnitude": float("inf")}, {"mstd": float("nan")}, {"mmax": float("inf")},
     {"magnitude": "nine"}, {"p": float("nan")}],
)
def test_non_finite_op_options_are_refused(options):
    with pytest.raises(OptionsError):
        core.create("augment", "Rotate", **options)


def test_inf_mstd_is_still_uniform_noise():
    assert core.create("augment", "Rotate", mstd=float("inf")).mstd == float("inf")
