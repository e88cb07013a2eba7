"""Per-sample magnitudes on the tensor path (``mstd`` noise, ``mmax`` clip), observed through whole op
calls: Brightness on a constant float image reveals each sample's magnitude exactly."""

from __future__ import annotations

import math

import pytest
import torch

from pimm import core
from pimm.core.data.augment import sample_magnitudes

N = 4000
LEVEL = 0.2  # constant input value (51 of 255)


def _magnitudes(magnitude: float, mstd: float, mmax: float | None = None, p: float = 1.0, seed: int = 0):
    """The magnitude each of N samples was augmented with, read back from Brightness's factor
    1.8·m/10 + 0.1; NaN where the sample was not augmented."""
    op = core.create("augment", "Brightness", p=p, magnitude=magnitude, mstd=mstd, mmax=mmax)
    x = torch.full((N, 1, 1, 1), LEVEL, dtype=torch.float64)
    torch.manual_seed(seed)
    out = op(x).flatten()
    factor = out / LEVEL
    mags = (factor - 0.1) / 1.8 * 10
    return torch.where((out - LEVEL).abs() < 1e-9, torch.full_like(mags, math.nan), mags)


def test_gaussian_noise_per_sample():
    mags = _magnitudes(5, 1.0)
    assert mags.isfinite().all()
    assert abs(float(mags.mean()) - 5.0) < 0.05
    assert abs(float(mags.std()) - 1.0) < 0.04
    # normal shape: ~68 % within one std, ~95 % within two
    assert abs(float(((mags - 5).abs() < 1).double().mean()) - 0.683) < 0.025
    assert abs(float(((mags - 5).abs() < 2).double().mean()) - 0.954) < 0.015
    assert mags.unique().numel() > N * 0.99  # one draw per sample, not one per batch


def test_uniform_noise_for_inf_and_above_100():
    for mstd in (math.inf, -math.inf, 101):
        mags = _magnitudes(8, mstd)
        assert float(mags.min()) >= 0 and float(mags.max()) <= 8 + 1e-5
        assert abs(float(mags.mean()) - 4.0) < 0.12
        assert abs(float(mags.std()) - 8 / math.sqrt(12)) < 0.08
        counts = torch.histc(mags, bins=4, min=0, max=8)
        assert (counts > N / 4 * 0.85).all(), (mstd, counts)


def test_clip_at_mmax_and_zero():
    mags = _magnitudes(9, 3.0, mmax=10)
    assert float(mags.max()) <= 10 + 1e-5 and float(mags.min()) >= -1e-5
    at_top = float((mags > 10 - 1e-5).double().mean())
    assert abs(at_top - 0.3694) < 0.03  # P(N(9, 3) > 10)
    default_clip = _magnitudes(9, 3.0)  # no mmax: clipped at 10 as well
    assert float(default_clip.max()) <= 10 + 1e-5
    above_ten = _magnitudes(12, 0.5, mmax=15)
    assert abs(float(above_ten.mean()) - 12) < 0.05  # mmax lifts the ceiling


def test_no_noise_is_the_magnitude_itself():
    mags = _magnitudes(7, 0)
    assert torch.allclose(mags, torch.full_like(mags, 7.0))


def test_probability_applies_per_sample():
    mags = _magnitudes(6, 0.5, p=0.3)
    applied = mags.isfinite()
    assert abs(float(applied.double().mean()) - 0.3) < 0.03
    assert abs(float(mags[applied].mean()) - 6) < 0.06


def test_seeded_draws_are_reproducible_and_follow_sample_magnitudes():
    a, b = _magnitudes(5, 2.0, seed=11), _magnitudes(5, 2.0, seed=11)
    assert torch.equal(a, b)
    assert not torch.equal(a, _magnitudes(5, 2.0, seed=12))
    torch.manual_seed(11)
    expected = sample_magnitudes(N, 5, 2.0, None)
    assert torch.allclose(a, expected, atol=1e-5)


@pytest.mark.parametrize("mstd", [0.5, math.inf])
def test_policy_batch_magnitudes_vary_per_sample(mstd):
    """Inside RandAugment (one op, n=1) every sample of a batch draws its own magnitude too."""
    ra = core.create("augment", "randaugment", config=f"rand-m6-n1-p1.0-mstd{mstd}", transforms=["Brightness"])
    x = torch.full((N, 1, 1, 1), LEVEL, dtype=torch.float64)
    torch.manual_seed(0)
    mags = ((ra(x).flatten() / LEVEL) - 0.1) / 1.8 * 10
    expected_std = 0.5 if mstd == 0.5 else 6 / math.sqrt(12)
    assert abs(float(mags.std()) - expected_std) < 0.05
