"""Mixup / CutMix / FastCollateMixup and the soft-target losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pimm import core
from pimm.core.data import FastCollateMixup, LabelSmoothingCrossEntropy, Mixup, SoftTargetCrossEntropy
from pimm.core.errors import ConfigError, OptionsError

C = 10


def _const_batch(batch: int, size: int = 16) -> torch.Tensor:
    """Image i is filled with the value i + 1, so every pixel tells where it came from."""
    return (torch.arange(batch, dtype=torch.float32) + 1).view(batch, 1, 1, 1).expand(batch, 3, size, size).clone()


def _lam_from_target(target: torch.Tensor, labels: torch.Tensor, smoothing: float) -> torch.Tensor:
    off = smoothing / C
    return (target[torch.arange(len(labels)), labels] - off) / (1 - smoothing)


def test_num_classes_is_required_and_options_validated():
    with pytest.raises(ConfigError, match="num_classes"):
        Mixup()
    with pytest.raises(OptionsError, match="num_classes"):
        core.create("augment", "mixup")
    with pytest.raises(ConfigError, match="mode"):
        Mixup(num_classes=C, mode="pairs")
    with pytest.raises(ConfigError, match="mixup_alpha"):
        Mixup(num_classes=C, mixup_alpha=0.0, cutmix_alpha=0.0)
    with pytest.raises(ConfigError, match="cutmix_minmax"):
        Mixup(num_classes=C, cutmix_minmax=(0.9, 0.1))
    mix = core.create("augment", "mixup", num_classes=C, cutmix_minmax=(0.2, 0.8))
    assert mix.cutmix_alpha == 1.0 and isinstance(mix, Mixup)


@pytest.mark.parametrize("mode", ["batch", "pair", "elem", "half"])
@pytest.mark.parametrize("alphas", [(1.0, 0.0), (0.0, 1.0), (0.8, 1.0)])
@pytest.mark.parametrize("batch", [1, 3, 6])
def test_targets_sum_to_one(mode, alphas, batch):
    np.random.seed(batch)
    mix = Mixup(mixup_alpha=alphas[0], cutmix_alpha=alphas[1], mode=mode, num_classes=C, label_smoothing=0.1)
    x, target = mix(torch.randn(batch, 3, 8, 8), torch.randint(0, C, (batch,)))
    assert x.shape == (batch, 3, 8, 8) and target.shape == (batch, C)
    assert torch.allclose(target.sum(1), torch.ones(batch))


def test_smoothing_values_without_mixing():
    mix = Mixup(num_classes=C, prob=0.0, label_smoothing=0.2)
    _, target = mix(torch.randn(4, 3, 4, 4), torch.tensor([0, 1, 2, 3]))
    assert torch.allclose(target[0, 0], torch.tensor(1 - 0.2 + 0.02))
    assert torch.allclose(target[0, 5], torch.tensor(0.02))


def test_batch_mixup_blends_with_reversed_batch():
    np.random.seed(0)
    labels = torch.arange(4)
    x, target = Mixup(num_classes=C, label_smoothing=0.0)(_const_batch(4), labels)
    lam = float(target[0, 0])
    # sample i is mixed with sample B-1-i (values i+1 and B-i)
    for i in range(4):
        expected = lam * (i + 1) + (1 - lam) * (4 - i)
        assert torch.allclose(x[i], torch.full_like(x[i], expected), atol=1e-5)
        assert torch.isclose(target[i, 3 - i], torch.tensor(1 - lam))


def test_cutmix_lambda_matches_pasted_area():
    for seed in range(10):
        np.random.seed(seed)
        mix = Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, num_classes=C, label_smoothing=0.0)
        x, target = mix(_const_batch(4, size=20), torch.arange(4))
        pasted = (x[0, 0] != 1).float().mean()
        assert torch.isclose(target[0, 0], 1 - pasted, atol=1e-6)


def test_cutmix_minmax_box_inside_and_lambda_exact():
    np.random.seed(3)
    mix = Mixup(mixup_alpha=0.0, cutmix_minmax=(0.3, 0.6), mode="elem", num_classes=C, label_smoothing=0.0)
    x, target = mix(_const_batch(6, size=30), torch.arange(6))
    for i in range(6):
        pasted = (x[i, 0] != i + 1).float().mean()
        assert torch.isclose(target[i, i], 1 - pasted, atol=1e-6)


def test_pair_mode_pairs_are_symmetric():
    np.random.seed(1)
    mix = Mixup(mixup_alpha=1.0, cutmix_alpha=1.0, mode="pair", num_classes=C, label_smoothing=0.0)
    x, target = mix(_const_batch(6), torch.arange(6))
    lam = _lam_from_target(target, torch.arange(6), 0.0)
    for i in range(3):
        j = 5 - i
        assert torch.isclose(lam[i], lam[j])
        # both members use the same λ / box, so together they keep the pair's total everywhere
        assert torch.allclose(x[i] + x[j], torch.full_like(x[i], i + j + 2), atol=1e-5)
    assert not torch.equal(x, _const_batch(6))


def test_elem_mode_uses_original_partner():
    np.random.seed(2)
    mix = Mixup(mixup_alpha=1.0, mode="elem", num_classes=C, label_smoothing=0.0)
    x, target = mix(_const_batch(4), torch.arange(4))
    lam = _lam_from_target(target, torch.arange(4), 0.0)
    for i in range(4):
        expected = lam[i] * (i + 1) + (1 - lam[i]) * (4 - i)
        assert torch.allclose(x[i], torch.full_like(x[i], float(expected)), atol=1e-5)
    assert len(set(round(float(v), 5) for v in lam)) > 1


@pytest.mark.parametrize("mode", ["batch", "pair", "elem"])
def test_odd_batch_middle_sample_is_unmixed(mode):
    np.random.seed(4)
    labels = torch.tensor([1, 2, 3, 4, 5])
    x0 = _const_batch(5)
    x, target = Mixup(mixup_alpha=1.0, cutmix_alpha=1.0, mode=mode, num_classes=C)(x0.clone(), labels)
    assert torch.equal(x[2], x0[2])
    assert torch.isclose(target[2, 3], torch.tensor(0.9 + 0.01)) and torch.isclose(target[2].sum(), torch.tensor(1.0))


def test_batch_of_one_is_unmixed_with_smoothed_target():
    x0 = torch.randn(1, 3, 8, 8)
    x, target = Mixup(num_classes=C, label_smoothing=0.1)(x0.clone(), torch.tensor([7]))
    assert torch.equal(x, x0)
    assert torch.isclose(target[0, 7], torch.tensor(0.91)) and torch.isclose(target[0, 0], torch.tensor(0.01))


def test_seeded_values_match_timm():
    """First-class targets for np.random.seed(0), 4 classes, smoothing 0.1 (read off timm 1.0.31)."""
    cases = [
        ({"mode": "batch"}, [0.531325, 0.025, 0.025, 0.418675]),
        ({"mode": "batch", "mixup_alpha": 0.0, "cutmix_alpha": 1.0}, [0.573438, 0.025, 0.025, 0.376563]),
        ({"mode": "elem", "cutmix_alpha": 1.0}, [0.051572, 0.025, 0.025, 0.366971]),
        ({"mode": "pair", "cutmix_alpha": 1.0}, [0.165395, 0.025, 0.025, 0.784605]),
    ]
    for kwargs, expected in cases:
        x = torch.arange(4, dtype=torch.float32).view(4, 1, 1, 1).expand(4, 1, 8, 8).clone()
        np.random.seed(0)
        _, target = Mixup(num_classes=4, label_smoothing=0.1, **kwargs)(x, torch.arange(4))
        assert torch.allclose(target[:, 0], torch.tensor(expected), atol=1e-5), kwargs


def test_input_validation():
    mix = Mixup(num_classes=C)
    with pytest.raises(TypeError, match="float"):
        mix(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="class indices"):
        mix(torch.zeros(2, 3, 4, 4), torch.tensor([0, C]))
    with pytest.raises(ValueError, match="one target per image"):
        mix(torch.zeros(2, 3, 4, 4), torch.tensor([0, 1, 2]))


def test_mixup_disabled_flag():
    mix = Mixup(num_classes=C)
    mix.mixup_enabled = False
    x0 = torch.randn(4, 3, 4, 4)
    x, _ = mix(x0.clone(), torch.arange(4))
    assert torch.equal(x, x0)


# -- FastCollateMixup -------------------------------------------------------------------------------


def _samples(batch: int) -> list[tuple[np.ndarray, int]]:
    return [(np.full((3, 12, 12), 20 * (i + 1), dtype=np.uint8), i) for i in range(batch)]


@pytest.mark.parametrize("mode", ["batch", "pair", "elem"])
def test_fast_collate_uint8_and_targets(mode):
    np.random.seed(5)
    mix = FastCollateMixup(mixup_alpha=1.0, cutmix_alpha=1.0, mode=mode, num_classes=C, label_smoothing=0.0)
    x, target = mix(_samples(4))
    assert x.dtype == torch.uint8 and x.shape == (4, 3, 12, 12)
    assert torch.allclose(target.sum(1), torch.ones(4))
    lam = _lam_from_target(target, torch.arange(4), 0.0)
    for i in range(4):
        mean = x[i].float().mean()
        expected = lam[i] * 20 * (i + 1) + (1 - lam[i]) * 20 * (4 - i)
        assert abs(float(mean) - float(expected)) <= 0.51


def test_fast_collate_half_and_single():
    np.random.seed(6)
    mix = FastCollateMixup(mixup_alpha=1.0, mode="half", num_classes=C)
    x, target = mix(_samples(6))
    assert x.shape == (3, 3, 12, 12) and target.shape == (3, C)
    x1, t1 = mix(_samples(1))
    assert x1.shape == (1, 3, 12, 12) and torch.equal(x1[0], torch.full((3, 12, 12), 20, dtype=torch.uint8))
    assert torch.isclose(t1[0, 0], torch.tensor(0.91))
    with pytest.raises(TypeError, match="uint8"):
        mix([(np.zeros((3, 4, 4), dtype=np.float32), 0)] * 2)


def test_fast_collate_rounds_blends():
    np.random.seed(0)
    mix = FastCollateMixup(mixup_alpha=1.0, num_classes=C, label_smoothing=0.0)
    x, target = mix([(np.full((1, 2, 2), 0, dtype=np.uint8), 0), (np.full((1, 2, 2), 255, dtype=np.uint8), 1)])
    lam = float(target[0, 0])
    assert int(x[0, 0, 0, 0]) == int(np.rint(np.float32(255) * np.float32(1 - lam)))


# -- devices ------------------------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", ["batch", "pair", "elem"])
def test_mixup_follows_cuda_input(mode):
    mix = Mixup(mixup_alpha=1.0, cutmix_alpha=1.0, mode=mode, num_classes=C)
    x, target = mix(torch.randn(4, 3, 8, 8, device="cuda"), torch.arange(4))
    assert x.device.type == "cuda" and target.device.type == "cuda"
    assert torch.allclose(target.sum(1), torch.ones(4, device="cuda"))


# -- losses -------------------------------------------------------------------------------------


def test_soft_target_cross_entropy_matches_torch():
    logits = torch.randn(5, C)
    probs = torch.softmax(torch.randn(5, C), dim=1)
    assert torch.allclose(SoftTargetCrossEntropy()(logits, probs), F.cross_entropy(logits, probs), atol=1e-6)
    with pytest.raises(ValueError, match="shaped like the logits"):
        SoftTargetCrossEntropy()(logits, torch.arange(5))


def test_label_smoothing_cross_entropy_matches_torch():
    logits = torch.randn(6, C)
    labels = torch.randint(0, C, (6,))
    ours = LabelSmoothingCrossEntropy(smoothing=0.1)(logits, labels)
    assert torch.allclose(ours, F.cross_entropy(logits, labels, label_smoothing=0.1), atol=1e-6)
    with pytest.raises(ConfigError):
        LabelSmoothingCrossEntropy(smoothing=1.0)


# -- properties ------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 7),
    mode=st.sampled_from(["batch", "pair", "elem"]),
    mixup_alpha=st.sampled_from([0.0, 0.2, 1.0]),
    cutmix_alpha=st.sampled_from([0.0, 1.0]),
    minmax=st.sampled_from([None, (0.2, 0.8)]),
    smoothing=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**31 - 1),
)
def test_mixup_targets_are_distributions(batch, mode, mixup_alpha, cutmix_alpha, minmax, smoothing, seed):
    if mixup_alpha == 0.0 and cutmix_alpha == 0.0 and minmax is None:
        cutmix_alpha = 1.0
    np.random.seed(seed % (2**32))
    mix = Mixup(mixup_alpha, cutmix_alpha, minmax, mode=mode, label_smoothing=smoothing, num_classes=C)
    labels = torch.randint(0, C, (batch,))
    x, target = mix(torch.rand(batch, 3, 9, 7), labels)
    assert x.shape == (batch, 3, 9, 7)
    assert torch.all(target >= 0) and torch.allclose(target.sum(1), torch.ones(batch), atol=1e-5)


def test_pairwise_and_whole_batch_paths_agree():
    """The CPU (pair by pair) and accelerator (whole batch) implementations give the same batch."""
    from pimm.plugins.augment.mix_pairs import blend_float_, mix_pairs_, mix_whole_batch_

    x = torch.randn(7, 3, 10, 12)
    lam = np.array([0.3, 1.0, 0.6, 1.0, 0.45, 0.8, 0.9], dtype=np.float32)
    boxes = {1: (0, 0, 0, 0), 4: (2, 7, 1, 9), 6: (0, 10, 3, 5)}
    lam[1] = 0.5  # a box with a λ
    a = mix_pairs_(x.clone(), lam, boxes, blend_float_)
    b = mix_whole_batch_(x.clone(), lam, boxes)
    assert torch.allclose(a, b, atol=1e-6)
    assert torch.equal(a[3], x[3])  # the middle sample of an odd batch is untouched


def test_thread_count_restored_after_mixing():
    threads = torch.get_num_threads()
    Mixup(num_classes=C, mode="elem")(torch.randn(4, 3, 8, 8), torch.arange(4))
    assert torch.get_num_threads() == threads


def test_seeded_element_and_pair_draws_match_timm():
    """First-class targets and per-image means for np.random.seed(3), 6 classes, no smoothing, each
    element / pair mode and method mix (read off timm 1.0.31): the per-element λ draw order."""
    cases = [
        ("elem", {"mixup_alpha": 1.0, "cutmix_alpha": 1.0}, [0.2903, 0, 0, 0, 0, 0.53565],
         [3.548501, 1.787856, 2.25, 2.803882, 2.84906, 2.32175]),
        ("elem", {"mixup_alpha": 0.8, "cutmix_alpha": 0.0}, [0.330971, 0, 0, 0, 0, 0.980843],
         [3.345144, 2.954836, 2.936111, 2.032013, 3.22684, 0.095786]),
        ("elem", {"mixup_alpha": 0.0, "cutmix_alpha": 1.0, "prob": 0.6}, [0.625, 0, 0, 0, 0, 0.375],
         [1.875, 1.5625, 2.65625, 3.0, 3.4375, 3.125]),
        ("pair", {"mixup_alpha": 1.0, "cutmix_alpha": 1.0}, [0.960995, 0, 0, 0, 0, 0.039005],
         [0.195024, 1.95068, 2.375, 2.625, 3.04932, 4.804976]),
        ("pair", {"mixup_alpha": 0.0, "cutmix_alpha": 1.0, "prob": 0.6}, [0.6875, 0, 0, 0, 0, 0.3125],
         [1.5625, 2.171875, 2.0, 3.0, 2.828125, 3.4375]),
    ]
    for mode, kwargs, first, means in cases:
        np.random.seed(3)
        x = torch.arange(6, dtype=torch.float32).view(6, 1, 1, 1).expand(6, 1, 8, 8).clone()
        x, target = Mixup(num_classes=6, label_smoothing=0.0, mode=mode, **kwargs)(x, torch.arange(6))
        assert torch.allclose(target[:, 0], torch.tensor(first, dtype=torch.float32), atol=1e-5), (mode, kwargs)
        assert torch.allclose(x.mean(dim=(1, 2, 3)), torch.tensor(means), atol=1e-5), (mode, kwargs)


# -- inputs: one clear pimm error for every bad target, setting and image batch ----------------------
@pytest.mark.parametrize(
    ("target", "match"),
    [
        (torch.tensor([0, 1, 2, C]), r"class indices in \[0, 10\).*\[0, 10\]"),
        (torch.tensor([0, -1, 2, 3]), r"class indices in \[0, 10\).*\[-1, 3\]"),
        (torch.tensor([0.0, 1.5, 2.0, 3.0]), "fractional value 1.5"),
        (torch.tensor([0, 1, 2]), r"one target per image \(4\)"),
        (torch.tensor([True, False, True, False]), "integer class indices, got torch.bool"),
        (torch.full((4, C), 0.1), r"class indices of shape \(4,\).*multi_label=True"),
        ([0, 1, 2, 3], "targets as a tensor, got list"),
        (torch.tensor(3), "one target per image"),
    ],
)
def test_bad_targets_are_one_clear_error(target, match):
    for mix in (Mixup(num_classes=C), Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, mode="elem", num_classes=C)):
        with pytest.raises(ConfigError, match=match):
            mix(torch.zeros(4, 3, 8, 8), target)


def test_integral_float_targets_and_multi_label_targets_work():
    _, soft = Mixup(num_classes=C, label_smoothing=0.0, prob=0.0)(torch.zeros(2, 3, 4, 4), torch.tensor([1.0, 3.0]))
    assert soft[0, 1] == 1 and soft[1, 3] == 1
    dense = torch.zeros(2, C)
    dense[0, 2] = 1
    _, out = Mixup(num_classes=C, multi_label=True, label_smoothing=0.0, prob=0.0)(torch.zeros(2, 3, 4, 4), dense)
    assert torch.equal(out, dense)
    with pytest.raises(ConfigError, match=r"dense targets of shape \(2, 10\)"):
        Mixup(num_classes=C, multi_label=True)(torch.zeros(2, 3, 4, 4), torch.tensor([1, 2]))


@pytest.mark.parametrize("name", ["mixup_alpha", "cutmix_alpha", "prob", "switch_prob", "label_smoothing"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.5", None, True, -0.5])
def test_bad_settings_are_one_clear_error(name, value):
    with pytest.raises(ConfigError, match=f"Mixup {name} must be a"):
        Mixup(num_classes=C, **{name: value})
    with pytest.raises(ConfigError, match=f"Mixup {name} must be a"):
        FastCollateMixup(num_classes=C, **{name: value})


def test_cutmix_minmax_must_be_two_fractions():
    for bad in ((0.5,), (0.1, float("nan")), "ab", (0.6, 0.2)):
        with pytest.raises(ConfigError, match="cutmix_minmax"):
            Mixup(num_classes=C, cutmix_minmax=bad)


def test_uint8_images_cutmix_works_and_blend_is_a_clear_error():
    ref = torch.arange(4, dtype=torch.uint8).view(4, 1, 1, 1).expand(4, 3, 16, 16).clone()
    np.random.seed(2)
    out, target = Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, num_classes=C, label_smoothing=0.0)(ref.clone(), torch.arange(4))
    lam = float(target[0, 0])
    assert out.dtype == torch.uint8 and 0.0 < lam < 1.0
    # the pasted box holds the partner's value; its share of the image is 1 - λ
    assert abs(float((out[0] == 3).float().mean()) - (1 - lam)) < 1e-6
    x = ref.clone()
    with pytest.raises(ConfigError, match="needs a float tensor, got torch.uint8.*FastCollateMixup"):
        Mixup(num_classes=C)(x, torch.arange(4))
    with pytest.raises(ConfigError, match=r"\(B, C, H, W\) image tensor, got shape \(3, 8, 8\)"):
        Mixup(num_classes=C)(torch.zeros(3, 8, 8), torch.arange(3))


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        ([0, 1, C, 2], r"class indices in \[0, 10\)"),
        ([0, -2, 1, 2], r"\[-2, 2\]"),
        ([0.0, 0.5, 1.0, 2.0], "fractional value 0.5"),
        ([np.full(C, 0.1, dtype=np.float32)] * 4, "multi_label=True"),
        (["a", "b", "c", "d"], "cannot batch the labels"),
    ],
)
def test_fast_collate_bad_labels_are_one_clear_error(labels, match):
    batch = [(np.zeros((3, 4, 4), dtype=np.uint8), label) for label in labels]
    with pytest.raises(ConfigError, match=match):
        FastCollateMixup(num_classes=C)(batch)


def test_fast_collate_bad_images_and_empty_batch():
    with pytest.raises(ConfigError, match="uint8 CHW images"):
        FastCollateMixup(num_classes=C)([(np.zeros((3, 4, 4), dtype=np.float32), 0)] * 2)
    with pytest.raises(ConfigError, match="non-empty list"):
        FastCollateMixup(num_classes=C)([])
