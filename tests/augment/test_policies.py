"""RandAugment / AutoAugment / AugMix: config grammar, op sets, reprs, algorithms, timm parity."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pimm import core
from pimm.core.data import (
    augment_and_mix_transform,
    augment_policy_from_config,
    auto_augment_transform,
    rand_augment_transform,
)
from pimm.core.data import parse_rand_augment_config as core_parse_rand_augment_config
from pimm.core.errors import ConfigError
from pimm.core.specs import AugmentSpec
from pimm.plugins.augment.config_parse import (
    AugMixConfig,
    RandAugmentConfig,
    parse_augmix_config,
    parse_auto_augment_config,
    parse_rand_augment_config,
)

HP = {"img_mean": (124, 116, 104), "translate_const": 10}


def _image() -> Image.Image:
    yy, xx = np.mgrid[0:24, 0:24]
    return Image.fromarray(np.stack([xx * 10, yy * 10, (xx * yy) % 256], -1).astype(np.uint8))


# -- the RandAugment grammar ---------------------------------------------------------------------

def test_defaults_are_visible():
    cfg = parse_rand_augment_config("rand")
    assert cfg == RandAugmentConfig()
    assert cfg.model_dump() == {
        "magnitude": 10.0, "num_layers": 2, "prob": 0.5, "magnitude_std": None, "magnitude_max": None,
        "increasing": False, "weight_idx": None, "transforms": None,
    }


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("rand-m9-n3-mstd0.5", {"magnitude": 9, "num_layers": 3, "magnitude_std": 0.5}),
        ("rand-mstd1-w0", {"magnitude_std": 1.0, "weight_idx": 0}),
        ("rand-m9-mstd0.5-inc1", {"magnitude": 9, "magnitude_std": 0.5, "increasing": True}),
        ("rand-inc1-mstd0.5-m9", {"magnitude": 9, "magnitude_std": 0.5, "increasing": True}),
        ("rand-mstd101", {"magnitude_std": math.inf}),
        ("rand-mstdinf", {"magnitude_std": math.inf}),
        ("rand-mstd-inf", {"magnitude_std": -math.inf}),
        ("rand-mmax15-m12-p0.7", {"magnitude_max": 15, "magnitude": 12, "prob": 0.7}),
        ("rand-tweights", {"transforms": "weights"}),
        ("rand-t3a-n1", {"transforms": "3a", "num_layers": 1}),
        ("rand-t3aw", {"transforms": "3aw"}),
    ],
)
def test_valid_strings(text, fields):
    cfg = parse_rand_augment_config(text)
    for key, value in fields.items():
        assert getattr(cfg, key) == value, key
    assert parse_rand_augment_config(cfg.to_string()) == cfg


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("rand-m", "'m'"), ("rand-mfoo", "'mfoo'"), ("rand-x3", "'x3'"), ("foo-m9", "start with 'rand'"),
        ("rand-m101", "'m101'"), ("rand-n-1", "'n-1'"), ("rand-p1.5", "'p1.5'"), ("rand-inc2", "'inc2'"),
        ("rand-w1", "'w1'"), ("rand-tfoo", "'tfoo'"), ("rand-mstd-2", "'mstd-2'"), ("rand-m9-m8", "twice"),
        ("rand--m9", "empty section"), ("", "non-empty"), ("rand-w0-tweights", "keep one"),
        ("rand-mmax0", "'mmax0'"), ("rand-mstdnan", "'mstdnan'"),
    ],
)
def test_malformed_strings_raise_one_clear_error(text, names):
    with pytest.raises(ConfigError) as info:
        parse_rand_augment_config(text)
    assert names in str(info.value)


_ALPHABET = "randmstpwixncfo0123456789.-inf"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=24) | st.text(max_size=12))
def test_fuzz_parser_raises_only_config_errors(text):
    for parse in (parse_rand_augment_config, parse_augmix_config, parse_auto_augment_config):
        try:
            parse(text)
        except ConfigError:
            pass


_floats = st.floats(0, 1, allow_nan=False).map(lambda v: round(v, 4))


@settings(max_examples=150, deadline=None)
@given(
    st.builds(
        RandAugmentConfig,
        magnitude=st.integers(0, 100) | st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 3)),
        num_layers=st.integers(0, 100),
        prob=_floats,
        magnitude_std=st.none() | st.sampled_from([math.inf, -math.inf]) | st.floats(0, 100).map(lambda v: round(v, 3)),
        magnitude_max=st.none() | st.integers(1, 100),
        increasing=st.booleans(),
        transforms=st.none() | st.sampled_from(["weights", "3a", "3aw"]),
    ),
    st.randoms(use_true_random=False),
)
def test_valid_configs_round_trip_in_any_order(cfg, rnd):
    head, *sections = cfg.to_string().split("-")
    # negative values are written 'key-value': keep those pairs together when shuffling
    merged: list[str] = []
    for part in sections:
        if merged and merged[-1].isalpha():
            merged[-1] += "-" + part
        else:
            merged.append(part)
    rnd.shuffle(merged)
    assert parse_rand_augment_config("-".join([head, *merged])) == cfg


@settings(max_examples=80, deadline=None)
@given(st.builds(AugMixConfig, magnitude=st.integers(0, 100), width=st.integers(1, 100),
                 depth=st.sampled_from([-1, 1, 2, 3, 7]), alpha=st.floats(0.01, 100).map(lambda v: round(v, 3)),
                 blended=st.booleans()))
def test_augmix_configs_round_trip(cfg):
    assert parse_augmix_config(cfg.to_string()) == cfg


# -- RandAugment built ------------------------------------------------------------------------------

TIMM_REPR = """RandAugment(n=2, ops=
\tAugmentOp(name=AutoContrast, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Equalize, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Invert, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Rotate, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Posterize, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Solarize, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=SolarizeAdd, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Color, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Contrast, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Brightness, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=Sharpness, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=ShearX, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=ShearY, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=TranslateXRel, p=0.5, m=9, mstd=0.5)
\tAugmentOp(name=TranslateYRel, p=0.5, m=9, mstd=0.5))"""


def test_rand_augment_repr_matches_timm():
    assert repr(rand_augment_transform("rand-m9-mstd0.5", HP)) == TIMM_REPR
    ra = rand_augment_transform("rand-mstd1-mmax15-p1-n3")
    assert repr(ra.ops[0]) == "AugmentOp(name=AutoContrast, p=1.0, m=10.0, mstd=1.0, mmax=15)"
    assert repr(rand_augment_transform("rand-mstd101").ops[0]).endswith("mstd=inf)")


def test_op_sets_and_weights():
    inc = rand_augment_transform("rand-inc1")
    assert [op.name for op in inc.ops][4:11] == [
        "PosterizeIncreasing", "SolarizeIncreasing", "SolarizeAdd", "ColorIncreasing", "ContrastIncreasing",
        "BrightnessIncreasing", "SharpnessIncreasing"]
    w = rand_augment_transform("rand-tweights")
    probs = dict(zip([op.name for op in w.ops], w.choice_weights))
    assert probs["Rotate"] == pytest.approx(0.297, abs=1e-3) and probs["ShearX"] == pytest.approx(0.198, abs=1e-3)
    assert probs["Invert"] == pytest.approx(0.00495, abs=1e-5)
    legacy = rand_augment_transform("rand-mstd1-w0")
    probs = dict(zip([op.name for op in legacy.ops], legacy.choice_weights))
    assert probs["Rotate"] == pytest.approx(0.3) and probs["Posterize"] == 0 and probs["Color"] == 0.025
    assert [op.name for op in rand_augment_transform("rand-t3a").ops] == ["SolarizeIncreasing", "Desaturate",
                                                                          "GaussianBlur"]
    w3 = rand_augment_transform("rand-t3aw")
    assert w3.choice_weights[0] == pytest.approx(6 / 33)
    with pytest.raises(ConfigError, match="non-zero weight"):
        rand_augment_transform("rand-w0-n14")


def test_hparams_mstd_used_when_the_string_sets_none():
    ra = rand_augment_transform("rand-m9", {"magnitude_std": 0.7})
    assert ra.ops[0].mstd == 0.7
    assert rand_augment_transform("rand-m9-mstd0.2", {"magnitude_std": 0.7}).ops[0].mstd == 0.2


def test_weighted_choice_is_without_replacement():
    ra = rand_augment_transform("rand-tweights-n3")
    seen = []
    ra.ops = [(lambda k: (lambda img: seen.append(k) or img))(i) for i in range(len(ra.ops))]
    np.random.seed(0)
    for _ in range(50):
        seen.clear()
        ra(_image())
        assert len(set(seen)) == 3


# PIL results read off timm 1.0.31 (pixel sums of the output), same seeds for random and numpy
TIMM_SUMS = {
    "rand-m9-mstd0.5": [183312, 190115, 183312, 183304],
    "rand-m7-n3-inc1": [197184, 127839, 186997, 188846],
    "rand-mstd1-tweights": [183312, 194531, 183312, 170068],
    "v0": [183312, 183312, 233743, 186496],
    "originalr-mstd0.5": [238431, 183312, 108817, 262839],
    "augmix-m3-w3": [176941, 176137, 179512, 172935],
}


@pytest.mark.parametrize("config", list(TIMM_SUMS))
def test_pil_results_equal_timm(config):
    transform = augment_policy_from_config(config, dict(HP))
    sums = []
    for seed in range(4):
        random.seed(seed)
        np.random.seed(seed)
        sums.append(int(np.asarray(transform(_image()), dtype=np.int64).sum()))
    assert sums == TIMM_SUMS[config]


# -- AutoAugment and AugMix -------------------------------------------------------------------------

def test_auto_augment_policies():
    sizes = {"v0": 25, "v0r": 25, "original": 25, "originalr": 25, "3a": 3}
    for name, size in sizes.items():
        aa = auto_augment_transform(name, HP)
        assert len(aa.policy) == size
    v0r = [op.name for sub in auto_augment_transform("v0r").policy for op in sub]
    assert "PosterizeIncreasing" in v0r and "Posterize" not in v0r
    orig = [op.name for sub in auto_augment_transform("original").policy for op in sub]
    assert "PosterizeOriginal" in orig
    aa = auto_augment_transform("original-mstd0.5")
    assert all(op.mstd == 0.5 for sub in aa.policy for op in sub)
    assert repr(aa).startswith("AutoAugment(policy=\n\t[AugmentOp(name=PosterizeOriginal, p=0.4, m=8, mstd=0.5), ")
    three = auto_augment_transform("3a")
    assert [(sub[0].name, sub[0].p, sub[0].magnitude) for sub in three.policy] == [
        ("Solarize", 1.0, 5), ("Desaturate", 1.0, 10), ("GaussianBlurRand", 1.0, 10)]
    with pytest.raises(ConfigError, match="unknown policy 'v9'"):
        auto_augment_transform("v9")
    with pytest.raises(ConfigError, match="'m3'"):
        auto_augment_transform("v0-m3")


def test_augmix_grammar_and_ops():
    am = augment_and_mix_transform("augmix-m3-w3-d-1-a1-b0", HP)
    assert (am.width, am.depth, am.alpha, am.blended) == (3, -1, 1.0, False)
    assert all(op.mstd == math.inf and op.p == 1.0 and op.magnitude == 3 for op in am.ops)
    assert len(am.ops) == 13 and am.ops[0].name == "AutoContrast"
    assert augment_and_mix_transform("augmix-m5-w4-d2-mstd0.5-b1").ops[0].mstd == 0.5
    assert repr(am).startswith("AugMixAugment(alpha=1.0, width=3, depth=-1, ops=\n\tAugmentOp(name=AutoContrast")


def test_augmix_mixing_formula():
    invert = core.create("augment", "Invert", p=1.0)
    am = augment_and_mix_transform("augmix-w1-d1")
    am.ops = [invert]
    img = _image()
    np.random.seed(7)
    ws = np.float32(np.random.dirichlet([1.0]))
    m = np.float32(np.random.beta(1.0, 1.0))
    np.random.seed(7)
    out = np.asarray(am(img)).astype(float)
    src = np.asarray(img).astype(float)
    expected = src + m * (np.clip(ws[0] * (255 - src), 0, 255).astype(np.uint8) - src)
    assert np.abs(out - expected).max() <= 1


# -- the registry path ------------------------------------------------------------------------------

def test_dispatcher_routes_by_prefix():
    assert type(augment_policy_from_config("rand-m9")).__name__ == "RandAugment"
    assert type(augment_policy_from_config("augmix-m3")).__name__ == "AugMixAugment"
    assert type(augment_policy_from_config("original")).__name__ == "AutoAugment"
    with pytest.raises(ConfigError):
        augment_policy_from_config("nonsense-m3")


def _fake_op_factory(**options):
    """A third-party op built on pimm's AugmentOp base: swaps the red and blue channels."""
    from pimm.core.data.augment import AugmentOp

    class Swap(AugmentOp):
        name = "SwapRB"

        def level_args(self, f, sign):
            return ()

        def apply_pil(self, img, *args, resample=None, fill=None):
            if img.mode != "RGB":
                return img
            r, g, b = img.split()
            return Image.merge("RGB", (b, g, r))

    return Swap(**options)


class _Policy:
    def __init__(self, config, hparams=None):
        self.config_str = config

    def __call__(self, img):
        return img


@pytest.fixture
def third_party():
    from pimm.core import hookimpl
    from pimm.core.data.augment import OpOptions
    from pimm.plugins.augment.policy_specs import PolicyOptions

    class Plugin:
        @hookimpl
        def pimm_augment_ops(self):
            return [
                AugmentSpec(name="SwapRB", target=f"{__name__}:_fake_op_factory", options=OpOptions, role="op",
                            tags=frozenset({"tensor"})),
                AugmentSpec(name="myset", target=f"{__name__}:_Policy", options=PolicyOptions, role="policy",
                            config_prefix="mine"),
            ]

    name = core.register_plugin(Plugin(), name="fake_augment_plugin")
    try:
        yield name
    finally:
        core.unregister_plugin(name)


def test_third_party_op_inside_rand_augment(third_party):
    import torch

    ra = rand_augment_transform("rand-n1-p1", transforms=["SwapRB"])
    assert repr(ra) == "RandAugment(n=1, ops=\n\tAugmentOp(name=SwapRB, p=1.0, m=10.0, mstd=0))"
    img = _image()
    assert np.array_equal(np.asarray(ra(img)), np.asarray(img)[..., ::-1])
    batch = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).unsqueeze(0).repeat(2, 1, 1, 1)
    assert torch.equal(ra(batch), batch.flip(1))  # tensor path goes through the op's PIL code
    weighted = rand_augment_transform("rand-n1", transforms={"SwapRB": 1.0, "Invert": 0.0})
    assert weighted.choice_weights.tolist() == [1.0, 0.0]
    assert type(augment_policy_from_config("mine-x1")).__name__ == "_Policy"


def test_non_op_component_is_rejected_in_policies(third_party):
    with pytest.raises(ConfigError, match="not an op"):
        rand_augment_transform("rand", transforms=["myset"])


def test_core_parse_goes_through_the_registered_policy():
    """core's parse_rand_augment_config returns the registered policy's parsed config (no plugin import)."""
    cfg = core_parse_rand_augment_config("rand-m9-n3-mstd0.5")
    assert cfg == parse_rand_augment_config("rand-m9-n3-mstd0.5")
    assert cfg.to_string() == parse_rand_augment_config("rand-m9-n3-mstd0.5").to_string()
    with pytest.raises(ConfigError, match="rand-x3|x3"):
        core_parse_rand_augment_config("rand-x3")


@pytest.mark.parametrize(
    "build",
    [
        lambda: rand_augment_transform("rand-m" + "9" * 5000),
        lambda: rand_augment_transform("rand-n" + "9" * 5000),
        lambda: rand_augment_transform("rand-mstd" + "9" * 5000),
        lambda: rand_augment_transform("rand-p0." + "1" * 5000),
        lambda: augment_and_mix_transform("augmix-w" + "9" * 5000),
        lambda: auto_augment_transform("v0-mstd" + "9" * 5000),
    ],
)
def test_absurdly_long_numbers_are_one_config_error(build):
    with pytest.raises(ConfigError, match="holds a number of 50.. characters; numbers have at most 24") as info:
        build()
    assert len(str(info.value)) < 300  # one readable line, not the 5000 digits


@pytest.mark.parametrize("transforms", [[], {}, ()])
def test_empty_op_list_is_one_config_error_at_build(transforms):
    with pytest.raises(ConfigError, match="empty op list"):
        rand_augment_transform("rand-m9", transforms=transforms)
    with pytest.raises(ConfigError, match="empty op list"):
        core.create("augment", "randaugment", config="rand-m9", transforms=transforms)
