"""The elementwise helpers pimm's optimizers use on their CPU paths, against exact values."""

from __future__ import annotations

import math

import pytest
import torch

from pimm.plugins.optim.madgrad import cube_root


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cube_root_matches_the_exact_root_over_madgrads_range(dtype):
    gen = torch.Generator().manual_seed(0)
    x = torch.empty(20000, dtype=torch.float64).uniform_(math.log(1e-14), math.log(1e4), generator=gen).exp()
    x[:3] = torch.tensor([0.0, 1.0, 8.0], dtype=torch.float64)
    xs = x.to(dtype)
    got = cube_root(xs, torch.empty_like(xs)).double()
    want = xs.double().pow(1.0 / 3.0)
    rel = ((got - want).abs() / want.clamp(min=1e-300))[1:]
    limit = 1e-6 if dtype == torch.float32 else 1e-14
    assert float(rel.max()) < limit and float(got[0]) == 0.0
    assert float((got - want).abs()[1:3].max()) <= 2 * torch.finfo(dtype).eps * 2


def test_cube_root_in_place_and_in_half_precision():
    x = torch.tensor([0.0, 0.125, 27.0, 1e-9])
    assert torch.allclose(cube_root(x, x), torch.tensor([0.0, 0.5, 3.0, 1e-3]), rtol=1e-6)
    h = torch.tensor([0.125, 27.0, 1e-6, 3e-5, 7e-3, 123.0], dtype=torch.bfloat16)
    out = cube_root(h, torch.empty_like(h))  # pow: log2 in bf16 would lose the mantissa
    assert torch.equal(out, torch.pow(h, 1.0 / 3.0))
