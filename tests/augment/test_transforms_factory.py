"""create_transform pipelines (reprs, sizes, crop modes), the crop transforms and resolve_data_config."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from PIL import Image

from pimm.core.data import (
    IMAGENET_DEFAULT_MEAN,
    IMAGENET_DEFAULT_STD,
    RandomResizedCropAndInterpolation,
    create_transform,
    resolve_data_config,
)
from pimm.core.errors import ConfigError

NORM = "    Normalize(mean=tensor([0.4850, 0.4560, 0.4060]), std=tensor([0.2290, 0.2240, 0.2250]))"
RRC = (
    "    RandomResizedCropAndInterpolation(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
    "interpolation=bilinear)"
)
JITTER = "    ColorJitter(brightness=(0.6, 1.4), contrast=(0.6, 1.4), saturation=(0.6, 1.4), hue=None)"


def _image(width: int = 400, height: int = 383) -> Image.Image:
    yy, xx = np.mgrid[0:height, 0:width]
    arr = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    return Image.fromarray(arr)


def _lines(*rows: str) -> str:
    return "\n".join(("Compose(", *rows, ")"))


# -- pipelines (reprs read off timm 1.0.31) -------------------------------------------------------


def test_eval_pipeline_repr_and_output():
    transform = create_transform(224)
    assert repr(transform) == _lines(
        "    Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)",
        "    CenterCrop(size=(224, 224))",
        "    MaybeToTensor()",
        NORM,
    )
    out = transform(_image())
    assert out.shape == (3, 224, 224) and out.dtype == torch.float32


def test_train_pipeline_repr():
    expected = _lines(RRC, "    RandomHorizontalFlip(p=0.5)", JITTER, "    MaybeToTensor()", NORM)
    assert repr(create_transform(224, is_training=True)) == expected


def test_train_pipeline_full_options_repr():
    transform = create_transform(
        224, is_training=True, vflip=0.5, color_jitter=(0.1, 0.2, 0.3, 0.4), color_jitter_prob=0.5,
        grayscale_prob=0.2, gaussian_blur_prob=0.1, re_prob=0.25, interpolation="random",
    )
    text = repr(transform)
    assert "interpolation=bilinear bicubic)" in text
    assert "RandomVerticalFlip(p=0.5)" in text
    jitter = "ColorJitter(brightness=(0.9, 1.1), contrast=(0.8, 1.2), saturation=(0.7, 1.3), hue=(-0.4, 0.4))"
    assert f"RandomApply(\n    p=0.5\n    {jitter}" in text
    assert "RandomGrayscale(p=0.2)" in text
    assert "GaussianBlur(kernel_size=(23, 23), sigma=(0.1, 2.0))" in text
    assert text.rstrip().endswith("RandomErasing(p=0.25, mode=const, count=(1, 1))\n)")


def test_train_output_and_components_are_registered():
    transform = create_transform(224, is_training=True, re_prob=1.0)
    random.seed(0)
    torch.manual_seed(0)
    out = transform(_image())
    assert out.shape == (3, 224, 224) and out.dtype == torch.float32
    for step in transform.transforms:
        assert step.pimm_origin.kind == "augment"


def test_no_aug_train():
    transform = create_transform(224, is_training=True, no_aug=True)
    assert repr(transform).splitlines()[1:3] == [
        "    Resize(size=224, interpolation=bilinear, max_size=None, antialias=True)",
        "    CenterCrop(size=(224, 224))",
    ]
    squash = create_transform((3, 224, 224), is_training=True, no_aug=True)
    assert "Resize(size=(224, 224)" in repr(squash)
    assert squash(_image()).shape == (3, 224, 224)


@pytest.mark.parametrize(
    ("crop_pct", "resize"), [(None, 256), (0.875, 256), (0.95, 235), (1.0, 224)]
)
def test_eval_crop_pct(crop_pct, resize):
    assert f"Resize(size={resize}," in repr(create_transform(224, crop_pct=crop_pct))


def test_eval_crop_modes_sizes():
    img = _image(300, 120)
    center = create_transform((224, 256))
    assert "ResizeKeepRatio(size=(256, 292), interpolation=bilinear, longest=0.000" in repr(center)
    assert center(img).shape == (3, 224, 256)
    squash = create_transform(224, crop_mode="squash")
    assert "Resize(size=(256, 256)" in repr(squash)
    assert squash(img).shape == (3, 224, 224)
    border = create_transform((224, 256), crop_mode="border")
    assert "longest=1.000" in repr(border) and "CenterCropOrPad(size=(224, 256))" in repr(border)
    out = create_transform(224, crop_mode="border", normalize=False)(img)
    assert out.shape == (3, 224, 224) and out.dtype == torch.uint8
    # the padding uses the mean colour
    assert out[:, 0, 0].tolist() == [round(255 * m) for m in IMAGENET_DEFAULT_MEAN]


def test_normalize_false_and_separate():
    out = create_transform(64, normalize=False)(_image())
    assert out.dtype == torch.uint8 and out.shape == (3, 64, 64)
    stages = create_transform(64, is_training=True, separate=True)
    assert isinstance(stages, tuple) and len(stages) == 3
    assert [type(t).__name__ for t in stages[2].transforms] == ["MaybeToTensor", "Normalize"]


def test_train_crop_modes():
    for mode, crop in (("rkrc", "CenterCropOrPad"), ("rkrr", "RandomCropOrPad")):
        transform = create_transform(64, is_training=True, train_crop_mode=mode)
        names = [type(t).__name__ for t in transform.transforms]
        assert names[:2] == ["ResizeKeepRatio", crop]
        assert transform(_image(90, 50)).shape == (3, 64, 64)


def test_pipeline_matches_eval_reference_values():
    """The eval pipeline equals resize + centre crop + to_tensor + normalize done by hand."""
    img = _image()
    cropped = TF.center_crop(TF.resize(img, 256), 224)
    ref = TF.normalize(TF.to_tensor(cropped), IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD)
    assert torch.equal(create_transform(224)(img), ref)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"crop_mode": "middle"},
        {"interpolation": "cubic"},
        {"is_training": True, "train_crop_mode": "random"},
        {"input_size": (1, 2, 3, 4)},
        {"input_size": 0},
        {"is_training": True, "no_aug": True, "separate": True},
        {"separate": True},
        {"tf_preprocessing": True},
        {"naflex": True},
        {"mean": (0.5, 0.5), "std": (0.5, 0.5, 0.5)},
        {"is_training": True, "color_jitter": (0.1, 0.2)},
        {"is_training": True, "re_prob": 0.5, "re_mode": "noise"},
        {"is_training": True, "scale": (1.0, 0.08)},
        {"is_training": True, "hflip": 2.0},
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs):
    with pytest.raises(ValueError) as info:
        create_transform(**kwargs)
    assert not isinstance(info.value, AssertionError)
    assert str(info.value)


# -- auto-augment (needs the augment policies) ------------------------------------------------------


def test_auto_augment_disables_color_jitter_unless_3a():
    pytest.importorskip("pimm.core.data.augment_policy")
    rand = create_transform(224, is_training=True, auto_augment="rand-m9-mstd0.5")
    text = repr(rand)
    assert "RandAugment(n=2, ops=" in text and "AugmentOp(name=Rotate, p=0.5, m=9, mstd=0.5)" in text
    assert "ColorJitter" not in text
    assert "ColorJitter" in repr(create_transform(224, is_training=True, auto_augment="3a"))
    random.seed(0)
    np.random.seed(0)
    assert rand(_image()).shape == (3, 224, 224)


def test_auto_augment_hparams(monkeypatch):
    policy_module = pytest.importorskip("pimm.core.data.augment_policy")
    seen = {}

    def fake_policy(config_str, hparams):
        seen[config_str] = dict(hparams)
        return lambda img: img

    monkeypatch.setattr(policy_module, "augment_policy_from_config", fake_policy)
    create_transform(224, is_training=True, auto_augment="rand-m9")
    create_transform((3, 160, 200), is_training=True, auto_augment="augmix-m3", interpolation="bicubic")
    assert seen["rand-m9"] == {"translate_const": 100, "img_mean": (124, 116, 104), "interpolation": "bilinear"}
    assert seen["augmix-m3"] == {
        "translate_const": 72, "img_mean": (124, 116, 104), "interpolation": "bicubic", "translate_pct": 0.3,
    }
    with pytest.raises(ConfigError, match="auto_augment"):
        create_transform(224, is_training=True, auto_augment=3)


# -- RandomResizedCropAndInterpolation ---------------------------------------------------------


def test_rrc_params_match_timm_for_seeds():
    img = Image.new("RGB", (400, 383))
    expected = [(26, 0, 336, 390), (195, 16, 160, 195), (213, 86, 160, 126), (94, 154, 211, 217)]
    got = []
    for seed in range(4):
        random.seed(seed)
        got.append(RandomResizedCropAndInterpolation.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3)))
    assert got == expected


def test_rrc_statistics():
    img = Image.new("RGB", (200, 160))
    random.seed(1)
    areas, aspects = [], []
    for _ in range(2000):
        top, left, h, w = RandomResizedCropAndInterpolation.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= top and 0 <= left and top + h <= 160 and left + w <= 200
        areas.append(h * w / (200 * 160))
        aspects.append(w / h)
    areas_a = np.array(areas)
    assert areas_a.min() >= 0.07 and areas_a.max() <= 1.0
    assert 0.4 < areas_a.mean() < 0.6  # U(0.08, 1) with rejection of crops that do not fit
    assert min(aspects) > 0.7 and max(aspects) < 1.4


def test_rrc_fallback_clamps_to_ratio():
    img = Image.new("RGB", (1000, 10))
    random.seed(0)
    top, left, h, w = RandomResizedCropAndInterpolation.get_params(img, (0.9, 1.0), (3 / 4, 4 / 3))
    assert (h, w) == (10, 13) and top == 0 and left == (1000 - 13) // 2


def test_rrc_random_interpolation_uses_both_modes_and_tensors_work():
    rrc = RandomResizedCropAndInterpolation(32, interpolation="random")
    assert repr(rrc) == (
        "RandomResizedCropAndInterpolation(size=(32, 32), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear bicubic)"
    )
    seen = set()
    random.seed(0)
    for _ in range(20):
        seen.add(random.choice(rrc.interpolation))
    assert len(seen) == 2
    assert rrc(torch.rand(3, 50, 60)).shape == (3, 32, 32)
    assert rrc(_image(60, 50)).size == (32, 32)
    with pytest.raises(ConfigError, match="interpolation"):
        RandomResizedCropAndInterpolation(32, interpolation="fancy")


def test_resize_keep_ratio_and_crop_or_pad():
    from pimm.plugins.augment.transforms import CenterCropOrPad, RandomCropOrPad, ResizeKeepRatio

    img = _image(400, 383)
    assert ResizeKeepRatio((256, 292))(img).size == (292, 280)
    assert ResizeKeepRatio((256, 292), longest=1.0)(img).size == (267, 256)
    small = Image.new("RGB", (10, 6), (9, 9, 9))
    padded = CenterCropOrPad((8, 12), fill=(1, 2, 3))(small)
    arr = np.asarray(padded)
    assert padded.size == (12, 8) and arr[0, 0].tolist() == [1, 2, 3] and arr[4, 5].tolist() == [9, 9, 9]
    random.seed(0)
    assert RandomCropOrPad(16)(small).size == (16, 16)
    assert CenterCropOrPad(4)(torch.rand(3, 10, 10)).shape == (3, 4, 4)


# -- resolve_data_config --------------------------------------------------------------------------

RESNET50D_CFG = {
    "input_size": (3, 224, 224), "test_input_size": (3, 288, 288), "interpolation": "bicubic",
    "crop_pct": 0.875, "test_crop_pct": 0.95, "crop_mode": "center",
    "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225), "num_classes": 1000,
}


class _FakeModel:
    pretrained_cfg = RESNET50D_CFG


def test_resolve_data_config_from_model():
    cfg = resolve_data_config(model=_FakeModel())
    assert cfg == {
        "input_size": (3, 224, 224), "interpolation": "bicubic", "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225), "crop_pct": 0.875, "crop_mode": "center",
    }
    test = resolve_data_config(model=_FakeModel(), use_test_size=True)
    assert test["input_size"] == (3, 288, 288) and test["crop_pct"] == 0.95
    transform = create_transform(**test)
    assert "Resize(size=303, interpolation=bicubic" in repr(transform)


def test_resolve_data_config_args_override_and_errors():
    cfg = resolve_data_config({"img_size": 160, "in_chans": 1, "mean": (0.5,), "crop_pct": 1.0}, model=_FakeModel())
    assert cfg["input_size"] == (1, 160, 160) and cfg["mean"] == (0.5,) and cfg["crop_pct"] == 1.0
    from pimm.core.specs import PretrainedCfg

    cfg = resolve_data_config(pretrained_cfg=PretrainedCfg(interpolation="bilinear", crop_pct=0.9))
    assert cfg["interpolation"] == "bilinear" and cfg["crop_pct"] == 0.9
    with pytest.raises(ConfigError):
        resolve_data_config()
    with pytest.raises(ConfigError, match="channels"):
        resolve_data_config({"in_chans": 3, "mean": (0.5, 0.5)})


# -- properties ------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 600),
    height=st.integers(1, 600),
    lo=st.floats(0.01, 1.0),
    span=st.floats(0.0, 1.0),
    r_lo=st.floats(0.2, 2.0),
    r_span=st.floats(1.0, 4.0),
    seed=st.integers(0, 10_000),
)
def test_rrc_params_always_inside_the_image(width, height, lo, span, r_lo, r_span, seed):
    img = Image.new("L", (width, height))
    scale = (lo, min(1.0, lo + span))
    random.seed(seed)
    top, left, h, w = RandomResizedCropAndInterpolation.get_params(img, scale, (r_lo, r_lo * r_span))
    assert 0 <= top and 0 <= left and h >= 1 and w >= 1
    assert top + h <= height and left + w <= width


def test_center_crop_or_pad_places_pixels_like_timm():
    """A 5x7 ramp cropped/padded to several sizes: which source pixel lands where (read off timm
    1.0.31's CenterCropOrPad): the odd padding pixel goes to the bottom/right, crops round half to even."""
    from pimm.plugins.augment.transforms import center_crop_or_pad

    x = torch.arange(1, 36, dtype=torch.float32).view(1, 5, 7)

    def rows(first_row, first_col, height, width, pad_top, pad_left, out_h, out_w):
        out = torch.zeros(out_h, out_w)
        out[pad_top:pad_top + height, pad_left:pad_left + width] = x[0, first_row:first_row + height,
                                                                     first_col:first_col + width]
        return out

    cases = {
        (8, 10): rows(0, 0, 5, 7, 1, 1, 8, 10),
        (4, 10): rows(0, 0, 4, 7, 0, 1, 4, 10),
        (8, 4): rows(0, 2, 5, 4, 1, 0, 8, 4),
        (3, 3): rows(1, 2, 3, 3, 0, 0, 3, 3),
        (6, 8): rows(0, 0, 5, 7, 0, 0, 6, 8),
    }
    for size, expected in cases.items():
        got = center_crop_or_pad(x, size)
        assert torch.equal(got[0], expected), (size, got[0].tolist())


def test_rrc_fallback_clamps_tall_images_to_ratio():
    img = Image.new("RGB", (10, 1000))
    random.seed(0)
    top, left, h, w = RandomResizedCropAndInterpolation.get_params(img, (0.9, 1.0), (3 / 4, 4 / 3))
    assert (h, w) == (13, 10) and left == 0 and top == (1000 - 13) // 2


# -- bad arguments are rejected when the pipeline is built ------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_size": ("a", "b")}, "input_size must hold whole numbers"),
        ({"input_size": float("nan")}, "input_size must hold whole numbers"),
        ({"input_size": (224, 10**30)}, "input_size must hold whole numbers of pixels in 1..65535"),
        ({"input_size": True}, "input_size must be an int"),
        ({"mean": ("a", 1, 2)}, "mean must hold finite numbers"),
        ({"mean": (float("nan"), 0.4, 0.4)}, "mean must hold finite numbers"),
        ({"mean": 0.5}, "mean must be a non-empty sequence"),
        ({"std": (float("nan"), 1, 1)}, "std must hold finite numbers"),
        ({"std": (0.2, 0.0, 0.2)}, "std values must be positive"),
        ({"crop_pct": float("nan")}, "crop_pct must be a positive number"),
        ({"crop_pct": "0.9"}, "crop_pct must be a positive number"),
        ({"crop_pct": -0.5}, "crop_pct must be a positive number"),
        ({"crop_pct": 1e-300}, "over 65535 pixels a side"),
        ({"crop_pct": 1e-3}, "over 65535 pixels a side"),
        ({"crop_pct": 1e9}, "under 1 pixel"),
        ({"is_training": True, "scale": 5}, r"scale must be a \(min, max\) pair"),
        ({"is_training": True, "ratio": ("a", "b")}, r"ratio must be a \(min, max\) pair"),
        ({"is_training": True, "hflip": float("nan")}, r"hflip must be a probability"),
        ({"is_training": True, "re_prob": float("nan")}, r"re_prob must be a probability"),
        ({"is_training": True, "re_prob": 2}, r"re_prob must be a probability"),
        ({"is_training": True, "grayscale_prob": "x"}, r"grayscale_prob must be a probability"),
        ({"is_training": True, "auto_augment": "rand-m" + "9" * 5000}, "holds a number of 5000 characters"),
        ({"is_training": True, "no_aug": True, "input_size": ("x", 3)}, "input_size must hold whole numbers"),
    ],
)
def test_bad_create_transform_arguments_fail_at_build_time(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        create_transform(**kwargs)


def test_timm_crop_pct_conventions_still_hold():
    """crop_pct None or 0 means the default 0.875 (timm's rule); whole-number floats are sizes."""
    for crop_pct in (None, 0):
        assert "Resize(size=256" in repr(create_transform(224, crop_pct=crop_pct))
    assert "Resize(size=256" in repr(create_transform(224.0))
    assert "Resize(size=224" in repr(create_transform(224, crop_pct=1.0))
