"""RandomErasing: modes, counts, batch splits, validation, device."""

from __future__ import annotations

import random

import pytest
import torch

from pimm import core
from pimm.core.data import RandomErasing
from pimm.core.errors import ConfigError


def _erased_mask(out: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    return (out != ref).any(dim=-3)


def test_repr_and_registry():
    assert repr(RandomErasing(0.25, mode="pixel")) == "RandomErasing(p=0.25, mode=pixel, count=(1, 1))"
    made = core.create("augment", "random_erasing", probability=0.25, max_count=3)
    assert repr(made) == "RandomErasing(p=0.25, mode=const, count=(1, 3))"


def test_const_mode_zeroes_a_box_in_place():
    random.seed(0)
    x = torch.ones(3, 32, 32)
    out = RandomErasing(probability=1.0)(x)
    assert out is x
    mask = out[0] == 0
    assert 0 < mask.float().mean() <= 1 / 3 + 0.02
    assert torch.equal(out[0] == 0, out[2] == 0)  # same box in every channel
    rows, cols = mask.nonzero(as_tuple=True)
    # one rectangle, strictly smaller than the image
    assert int(mask.sum()) == (int(rows.max()) - int(rows.min()) + 1) * (int(cols.max()) - int(cols.min()) + 1)
    assert int(rows.max() - rows.min()) + 1 < 32 and int(cols.max() - cols.min()) + 1 < 32


def test_rand_and_pixel_modes():
    random.seed(1)
    torch.manual_seed(1)
    ref = torch.full((3, 40, 40), 100.0)
    rand = RandomErasing(probability=1.0, mode="rand")(ref.clone())
    mask = _erased_mask(rand, ref)
    for c in range(3):
        assert rand[c][mask].unique().numel() == 1  # one value per channel
    pixel = RandomErasing(probability=1.0, mode="pixel")(ref.clone())
    assert pixel[0][_erased_mask(pixel, ref)].unique().numel() > 10


def test_counts_and_probability_zero():
    ref = torch.full((1, 64, 64), 5.0)
    random.seed(2)
    out = RandomErasing(probability=1.0, min_count=3, max_count=3, max_area=0.05)(ref.clone())
    assert 0 < _erased_mask(out, ref).float().mean() <= 0.05 * 3 / 3 + 0.01
    assert torch.equal(RandomErasing(probability=0.0)(ref.clone()), ref)


def test_batch_with_num_splits_keeps_clean_split():
    random.seed(3)
    ref = torch.ones(4, 3, 16, 16)
    out = RandomErasing(probability=1.0, num_splits=2)(ref.clone())
    assert torch.equal(out[:2], ref[:2])
    assert not torch.equal(out[2], ref[2]) and not torch.equal(out[3], ref[3])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"probability": 1.5},
        {"mode": "noise"},
        {"min_area": 0.5, "max_area": 0.2},
        {"min_count": 3, "max_count": 2},
        {"min_aspect": 0.0},
        {"num_splits": -1},
        {"device": 3},
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ConfigError):
        RandomErasing(**kwargs)


def test_device_argument_is_accepted_and_input_checked():
    erase = RandomErasing(probability=1.0, device="cuda", mode="pixel")  # ignored: fills follow the input
    random.seed(0)
    assert erase(torch.zeros(3, 8, 8)).device.type == "cpu"
    with pytest.raises(ValueError, match="CHW"):
        erase(torch.zeros(8, 8))
    with pytest.raises(TypeError, match="float"):
        erase(torch.zeros(3, 8, 8, dtype=torch.uint8))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", ["const", "rand", "pixel"])
def test_cuda_input(mode):
    x = torch.ones(2, 3, 16, 16, device="cuda")
    out = RandomErasing(probability=1.0, mode=mode)(x)
    assert out.device.type == "cuda" and (out != 1).any()
