"""Loss components: hand-computed values, timm's choice rule, Mixup compatibility, BCE options."""

from __future__ import annotations

import math

import pytest
import torch

from pimm.core import create, hookimpl, register_plugin, unregister_plugin
from pimm.core.specs import LossSpec
from pimm.core.errors import ConfigError
from pimm.core.loss import create_loss, default_loss_name

LOGITS = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
TARGET = torch.tensor([0, 2])


def _lse(row):
    return math.log(sum(math.exp(v) for v in row))


def test_cross_entropy_and_label_smoothing_by_hand():
    # -log p: row0 target 0 = lse(2,0,0) - 2; row1 target 2 = lse(0,1,0) - 0
    nll = [_lse([2, 0, 0]) - 2, _lse([0, 1, 0])]
    assert float(create("loss", "cross_entropy")(LOGITS, TARGET)) == pytest.approx(sum(nll) / 2, abs=1e-6)
    # smoothing 0.1: 0.9 * nll + 0.1 * mean_c(-log p_c)
    mean_c = [_lse([2, 0, 0]) - 2 / 3, _lse([0, 1, 0]) - 1 / 3]
    want = sum(0.9 * n + 0.1 * m for n, m in zip(nll, mean_c)) / 2
    assert float(create("loss", "label_smoothing", smoothing=0.1)(LOGITS, TARGET)) == pytest.approx(want, abs=1e-6)
    assert float(create("loss", "ce", smoothing=0.1)(LOGITS, TARGET)) == pytest.approx(want, abs=1e-6)


def test_soft_target_by_hand():
    soft = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    row0 = 0.5 * (_lse([2, 0, 0]) - 2) + 0.5 * (_lse([2, 0, 0]) - 0)
    row1 = _lse([0, 1, 0])
    assert float(create("loss", "soft_target")(LOGITS, soft)) == pytest.approx((row0 + row1) / 2, abs=1e-6)


def _bce(x: float, t: float, pos_weight: float = 1.0) -> float:
    sig = 1 / (1 + math.exp(-x))
    return -(pos_weight * t * math.log(sig) + (1 - t) * math.log(1 - sig))


def test_bce_smoothing_threshold_and_pos_weight_by_hand():
    x3 = torch.tensor([[1.0, -1.0, 0.5]])
    # index target 0, smoothing 0.3, C=3: off = 0.1, on = 0.8
    want = (_bce(1.0, 0.8) + _bce(-1.0, 0.1) + _bce(0.5, 0.1)) / 3
    got = create("loss", "bce", smoothing=0.3)(x3, torch.tensor([0]))
    assert float(got) == pytest.approx(want, abs=1e-6)
    x = torch.tensor([[1.0, -1.0]])
    # threshold 0.5 turns (0.9, 0.1) into (1, 0); pos_weight 3 scales the positive term
    want = (_bce(1.0, 1.0, 3.0) + _bce(-1.0, 0.0, 3.0)) / 2
    got = create("loss", "bce", smoothing=0.2, target_threshold=0.5, pos_weight=3.0)(x, torch.tensor([0]))
    assert float(got) == pytest.approx(want, abs=1e-6)
    # sum_classes: sum over the 2 classes, mean over the batch of 1
    got = create("loss", "bce", smoothing=0.0, sum_classes=True)(x, torch.tensor([0]))
    assert float(got) == pytest.approx(_bce(1.0, 1.0) + _bce(-1.0, 0.0), abs=1e-6)


def test_timm_choice_rule():
    assert default_loss_name() == "cross_entropy"
    assert default_loss_name(smoothing=0.1) == "label_smoothing"
    assert default_loss_name(mixup=True, smoothing=0.1) == "soft_target"
    assert default_loss_name(mixup=True, bce=True) == "bce"
    loss = create_loss(smoothing=0.1)
    assert loss.pimm_origin.name == "label_smoothing" and loss.smoothing == 0.1
    loss = create_loss(mixup=True, bce=True, bce_target_thresh=0.2)
    assert loss.smoothing == 0.0 and loss.target_threshold == 0.2  # Mixup's targets are already smoothed


def test_mixup_refuses_index_only_losses_with_the_names_that_fit():
    with pytest.raises(ConfigError, match="class indices only.*soft_target"):
        create_loss("label_smoothing", mixup=True, smoothing=0.1)
    with pytest.raises(ConfigError, match="per-class probability targets only"):
        create_loss("soft_target", mixup=False)
    assert create_loss("bce", mixup=True).pimm_origin.name == "bce"


class _FakeLossPlugin:
    """A third-party loss without a smoothing option (class indices only)."""

    @hookimpl
    def pimm_losses(self):
        return [LossSpec(name="fakeloss_plain_nll", target="torch.nn:CrossEntropyLoss")]


def test_option_mismatches_are_one_clear_error():
    register_plugin(_FakeLossPlugin(), name="fakeloss")
    try:
        with pytest.raises(ConfigError, match="--smoothing 0"):
            create_loss("fakeloss_plain_nll", smoothing=0.1)
        assert create_loss("fakeloss_plain_nll", smoothing=0.0) is not None
    finally:
        unregister_plugin("fakeloss")
    with pytest.raises(ConfigError, match="no 'pos_weight' option"):
        create_loss("cross_entropy", bce_pos_weight=2.0)
    with pytest.raises(ConfigError, match="--bce-loss"):
        create_loss("cross_entropy", bce=True)
    with pytest.raises(ConfigError, match="logits"):
        create("loss", "bce")(LOGITS, torch.tensor([[0, 1]]))
