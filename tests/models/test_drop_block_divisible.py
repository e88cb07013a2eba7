"""DropBlock and make_divisible: values read off timm 1.0.31 (facts, REFERENCE.md), seeded draws included."""

from __future__ import annotations

import warnings

import pytest
import torch

from pimm.core.errors import ConfigError
from pimm.core.models.layers import DropBlock2d, drop_block_2d, make_divisible

VALUES = [0.5, 3, 4, 7.2, 10, 11.99, 12, 12.5, 15, 17, 20, 28, 36, 44.8, 57.6, 67, 100, 230.4, 1000 / 3]
#: timm's make_divisible over VALUES, for (divisor, min_value, round_limit).
TIMM_DIVISIBLE = {
    (8, None, 0.9): [8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 24, 32, 40, 48, 56, 64, 104, 232, 336],
    (16, 8, 0.9): [8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 32, 32, 48, 48, 64, 64, 96, 224, 336],
    (8, None, 0.0): [8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 24, 32, 40, 48, 56, 64, 104, 232, 336],
    (32, None, 0.95): [32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 64, 64, 64, 64, 96, 224, 320],
    (3, 1, 0.9): [1, 3, 6, 9, 9, 12, 12, 12, 15, 18, 21, 27, 36, 45, 57, 66, 99, 231, 333],
}


@pytest.mark.parametrize("divisor, min_value, round_limit", sorted(TIMM_DIVISIBLE, key=str))
def test_make_divisible_matches_timm(divisor, min_value, round_limit):
    got = [make_divisible(v, divisor, min_value=min_value, round_limit=round_limit) for v in VALUES]
    assert got == TIMM_DIVISIBLE[(divisor, min_value, round_limit)]
    assert all(isinstance(v, int) for v in got)


def test_make_divisible_rejects_a_bad_divisor():
    with pytest.raises(ConfigError, match="divisor"):
        make_divisible(10, 0)


def _pattern(values: list[float], scale: float) -> list[float]:
    return [scale if v else 0.0 for v in values]


#: timm's DropBlock2d(drop_prob, block_size) in train mode on torch.ones(shape) after
#: torch.manual_seed(seed): which cells survive (1) and the survivors' common scale.
TIMM_DROPBLOCK = [
    ((1, 1, 6, 6), 0.3, 3, 3, 2.25,
     [0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]),
    ((1, 1, 5, 8), 0.25, 4, 5, 2.857142925262451,
     [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
      1, 0, 0, 0, 0, 1, 1, 1]),
    ((2, 1, 4, 4), 0.2, 2, 11, 1.3333333730697632,
     [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1]),
    # block_size 7 on a 3x4 map: the block is clipped to 3x4
    ((2, 1, 3, 4), 0.1, 7, 1, 2.0, [0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]),
]


@pytest.mark.parametrize("shape, drop_prob, block_size, seed, scale, kept", TIMM_DROPBLOCK)
def test_drop_block_seeded_matches_timm(shape, drop_prob, block_size, seed, scale, kept):
    """Same seed → the same blocks (odd and even sizes, non-square maps) and the same rescaling."""
    torch.manual_seed(seed)
    out = DropBlock2d(drop_prob, block_size).train()(torch.ones(*shape))
    assert out.flatten().tolist() == _pattern(kept, scale)


def test_drop_block_blocks_are_shared_by_channels_and_clipped():
    torch.manual_seed(0)
    out = drop_block_2d(torch.ones(3, 4, 5, 7), 0.3, 3, 1.0)
    assert torch.equal(out == 0, (out[:, :1] == 0).expand_as(out))
    kept = out[out != 0]
    assert 0 < kept.numel() < out.numel()
    assert torch.allclose(kept, torch.full_like(kept, out.numel() / kept.numel()), rtol=1e-5)


def test_drop_block_module_scripts_and_keeps_dtype():
    block = DropBlock2d(0.2, 3).train()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.script(block)
    x = torch.randn(2, 3, 8, 8)
    torch.manual_seed(4)
    expected = block(x)
    torch.manual_seed(4)
    assert torch.equal(scripted(x), expected)
    assert block(x.to(torch.bfloat16)).dtype == torch.bfloat16
