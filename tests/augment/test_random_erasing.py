"""RandomErasing: modes, counts, batch splits, validation, device."""

from __future__ import annotations

import random

import numpy as np
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
    with pytest.raises(ConfigError, match=r"\(C, H, W\)"):
        erase(torch.zeros(8, 8))
    with pytest.raises(TypeError, match="float"):
        erase(torch.zeros(3, 8, 8, dtype=torch.uint8))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", ["const", "rand", "pixel"])
def test_cuda_input(mode):
    x = torch.ones(2, 3, 16, 16, device="cuda")
    out = RandomErasing(probability=1.0, mode=mode)(x)
    assert out.device.type == "cuda" and (out != 1).any()


# -- inputs: integer tensors in every mode, PIL images, 2-D tensors ---------------------------------
@pytest.mark.parametrize("dtype", [torch.uint8, torch.int32, torch.int64])
def test_const_mode_erases_integer_tensors(dtype):
    random.seed(4)
    x = torch.full((2, 3, 24, 24), 7, dtype=dtype)
    out = RandomErasing(probability=1.0)(x)
    assert out.dtype == dtype and (out == 0).any() and set(out.unique().tolist()) == {0, 7}


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int32])
@pytest.mark.parametrize("mode", ["rand", "pixel"])
def test_noise_modes_on_integer_tensors_are_one_clear_error(dtype, mode):
    x = torch.full((3, 16, 16), 7, dtype=dtype)
    with pytest.raises(ConfigError, match=f"mode '{mode}'.*float.*mode='const'"):
        RandomErasing(probability=1.0, mode=mode)(x)
    assert (x == 7).all()  # nothing was touched


def test_pil_image_and_2d_tensor_are_clear_errors():
    from PIL import Image

    with pytest.raises(ConfigError, match="image tensors, got Image.*MaybeToTensor"):
        RandomErasing(probability=1.0)(Image.new("RGB", (8, 8)))
    with pytest.raises(ConfigError, match=r"got shape \(8, 8\).*unsqueeze"):
        RandomErasing(probability=1.0)(torch.zeros(8, 8))


def test_seeded_boxes_match_timm():
    """Erased pixel count and the box corner for seeds 0..3, 1..3 boxes on a 40x48 image
    (read off timm 1.0.31)."""
    expected = [(312, 7, 22), (196, 14, 30), (88, 10, 19), (200, 15, 30)]
    got = []
    for seed in range(4):
        random.seed(seed)
        x = torch.ones(3, 40, 48)
        RandomErasing(probability=1.0, min_count=1, max_count=3)(x)
        mask = x[0] == 0
        idx = mask.nonzero()
        got.append((int(mask.sum()), int(idx[:, 0].min()), int(idx[:, 1].min())))
    assert got == expected


# -- statistics of the box geometry over many draws ------------------------------------------------
def _box_sizes(erase, h=60, w=80, n=3000, seed=5):
    random.seed(seed)
    areas, aspects = [], []
    for _ in range(n):
        x = torch.ones(1, h, w)
        erase(x)
        mask = x[0] == 0
        if not mask.any():
            continue
        rows, cols = mask.nonzero(as_tuple=True)
        bh, bw = int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1
        assert int(mask.sum()) == bh * bw  # one rectangle
        assert bh < h and bw < w  # strictly inside
        areas.append(bh * bw / (h * w))
        aspects.append(bh / bw)
    return np.array(areas), np.array(aspects)


def test_area_bounds_and_spread_over_many_draws():
    lo, hi = 0.05, 0.2
    areas, aspects = _box_sizes(RandomErasing(probability=1.0, min_area=lo, max_area=hi, min_aspect=0.5))
    assert len(areas) > 2900  # nearly every draw fits at these sizes
    # rounding the sides to whole pixels moves the area a little beyond [lo, hi]
    assert areas.min() >= lo * 0.8 and areas.max() <= hi * 1.2
    # U(lo, hi): mean in the middle, both ends reached, spread like a uniform's
    assert abs(areas.mean() - (lo + hi) / 2) < 0.005
    assert (areas < lo + 0.02).mean() > 0.08 and (areas > hi - 0.02).mean() > 0.08
    assert abs(areas.std() - (hi - lo) / np.sqrt(12)) < 0.006


def test_aspect_bounds_are_log_uniform_over_many_draws():
    areas, aspects = _box_sizes(RandomErasing(probability=1.0, min_area=0.1, max_area=0.1, min_aspect=0.4,
                                              max_aspect=2.5))
    logs = np.log(aspects)
    # the aspect is height / width, drawn log-uniformly in [log 0.4, log 2.5] (rounding blurs the ends)
    assert aspects.min() >= 0.4 * 0.85 and aspects.max() <= 2.5 * 1.15
    assert abs(logs.mean()) < 0.05  # symmetric around ratio 1 on the log scale
    assert abs(logs.std() - (np.log(2.5) - np.log(0.4)) / np.sqrt(12)) < 0.05
    assert (aspects > 1.8).mean() > 0.05 and (aspects < 0.55).mean() > 0.05


def test_count_divides_the_area_between_boxes():
    random.seed(6)
    one, _ = _box_sizes(RandomErasing(probability=1.0, min_area=0.2, max_area=0.2), n=300)
    random.seed(6)
    x_sum = []
    for _ in range(300):
        x = torch.ones(1, 60, 80)
        RandomErasing(probability=1.0, min_area=0.2, max_area=0.2, min_count=4, max_count=4, min_aspect=0.8)(x)
        x_sum.append(float((x[0] == 0).float().mean()))
    # four boxes of a quarter of the area each: total at most 0.2 (overlaps), each box ~0.05
    assert max(x_sum) <= 0.2 * 1.15 and 0.1 < np.mean(x_sum) <= 0.2


def test_a_box_as_large_as_the_image_is_never_drawn():
    """Boxes must fit strictly inside (timm's rule): whole-image boxes are redrawn, then skipped."""
    random.seed(7)
    erase = RandomErasing(probability=1.0, min_area=0.99, max_area=1.0, min_aspect=1.0, max_aspect=1.0)
    for _ in range(50):
        x = torch.ones(3, 10, 10)
        assert torch.equal(erase(x), torch.ones(3, 10, 10))
