"""Builtin schedules against lr tables computed by hand (numbers written out, not re-derived by pimm)."""

from __future__ import annotations

import math

import pytest
import torch

from pimm.core import create
from pimm.core.errors import ConfigError, OptionsError
from pimm.core.scheduler import create_scheduler_v2, schedule_length_for_total


def _opt(lr: float = 1.0, groups: int = 1) -> torch.optim.Optimizer:
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr * (i + 1)} for i in range(groups)]
    return torch.optim.SGD(params, lr=lr)


def _table(sched, n: int, per_update: bool = False) -> list[float]:
    out = []
    for t in range(n):
        (sched.step_update if per_update else sched.step)(t)
        out.append(sched.optimizer.param_groups[0]["lr"])
    return out


def test_cosine_with_warmup_table():
    # base 1, 10 epochs, warmup 2 from 0.1: t=0 -> 0.1, t=1 -> 0.55; then 0.5*(1+cos(pi*t/10))
    sched = create("scheduler", "cosine", _opt(), t_initial=10, warmup_t=2, warmup_lr_init=0.1)
    got = _table(sched, 11)
    want = [0.1, 0.55, 0.9045084972, 0.7938926261, 0.6545084972, 0.5, 0.3454915028, 0.2061073739,
            0.0954915028, 0.0244717419, 0.0]
    assert got == pytest.approx(want, abs=1e-9)


def test_cosine_warmup_prefix_and_lr_min():
    # prefix: decay starts at t=2; lr_min 0.1: 0.1 + 0.9*0.5*(1+cos(pi*s/4)) for s = t-2
    sched = create("scheduler", "cosine", _opt(), t_initial=4, warmup_t=2, warmup_lr_init=0.0, warmup_prefix=True,
                   lr_min=0.1)
    got = _table(sched, 8)
    want = [0.0, 0.5, 1.0, 0.8681980515, 0.55, 0.2318019485, 0.1, 0.1]
    assert got == pytest.approx(want, abs=1e-9)
    assert sched.get_cycle_length() == 6


def test_cosine_cycles_decay_and_mul():
    # cycles of 2, 4 (mul 2), peaks 1 then 0.5 (decay 0.5), limit 2 -> then lr_min 0
    sched = create("scheduler", "cosine", _opt(), t_initial=2, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=2)
    got = _table(sched, 8)
    want = [1.0, 0.5, 0.5, 0.4267766953, 0.25, 0.0732233047, 0.0, 0.0]
    assert got == pytest.approx(want, abs=1e-9)
    assert sched.get_cycle_length() == 6


def test_cosine_repeated_cycles_mul_one():
    sched = create("scheduler", "cosine", _opt(), t_initial=2, cycle_limit=3, cycle_decay=0.1)
    got = _table(sched, 7)
    assert got == pytest.approx([1.0, 0.5, 0.1, 0.05, 0.01, 0.005, 0.0], abs=1e-12)


def test_step_multistep_constant_tables():
    step = create("scheduler", "step", _opt(), decay_t=3, decay_rate=0.5)
    assert _table(step, 7) == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    # timm's rule: milestone m acts from t = m - 1
    multi = create("scheduler", "multistep", _opt(), decay_t=(2, 4), decay_rate=0.1)
    assert _table(multi, 5) == pytest.approx([1, 0.1, 0.1, 0.01, 0.01])
    # step with warmup (a prefix by default): warmup 2 from 0 -> 0, 0.5; then decays counted from t=2
    warm = create("scheduler", "step", _opt(), decay_t=2, decay_rate=0.5, warmup_t=2)
    assert _table(warm, 6) == pytest.approx([0, 0.5, 1, 1, 0.5, 0.5])
    const = create("scheduler", "constant", _opt(), warmup_t=4, warmup_lr_init=0.2)
    assert _table(const, 6) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0])


def test_tanh_and_poly_tables():
    tanh = create("scheduler", "tanh", _opt(), t_initial=4)
    # 0.5*(1 - tanh(-7 + 10*t/4))
    want = [0.5 * (1 - math.tanh(v)) for v in (-7.0, -4.5, -2.0, 0.5)] + [0.0]
    assert want[1] == pytest.approx(0.9998766054, abs=1e-9)  # the hand value of one row
    assert _table(tanh, 5) == pytest.approx(want, abs=1e-12)
    poly = create("scheduler", "poly", _opt(), t_initial=4, power=2.0)
    assert _table(poly, 5) == pytest.approx([1.0, 0.5625, 0.25, 0.0625, 0.0])


def test_per_update_stepping_ignores_epoch_steps():
    sched = create("scheduler", "cosine", _opt(), t_initial=4, t_in_epochs=False)
    sched.step(3)
    assert sched.optimizer.param_groups[0]["lr"] == 1.0
    assert _table(sched, 3, per_update=True) == pytest.approx([1.0, 0.8535533906, 0.5])


def test_each_group_follows_its_own_base_lr():
    sched = create("scheduler", "step", _opt(lr=1.0, groups=2), decay_t=1, decay_rate=0.5)
    sched.step(2)
    assert [g["lr"] for g in sched.optimizer.param_groups] == pytest.approx([0.25, 0.5])


def test_noise_is_seeded_bounded_and_ranged():
    a = create("scheduler", "step", _opt(), decay_t=100, noise_range_t=(2, 4), noise_pct=0.1, noise_seed=7)
    lrs = _table(a, 6)
    assert lrs[0] == lrs[1] == lrs[4] == lrs[5] == 1.0
    assert lrs[2] != 1.0 and lrs[3] != 1.0 and all(0.9 < v < 1.1 for v in lrs[2:4])
    assert lrs[2] != lrs[3]  # the draw depends on t
    # parity fact read off timm 1.0.31 (same seed, same t): lr 1 -> 1.0447275378 at t=2
    assert lrs[2] == pytest.approx(1.0447275378, abs=1e-9)
    b = create("scheduler", "step", _opt(), decay_t=100, noise_range_t=(2, 4), noise_pct=0.1, noise_seed=7)
    assert _table(b, 6) == lrs  # same seed and t: same noise


def test_plateau_decays_after_patience_and_warms_up():
    sched = create("scheduler", "plateau", _opt(), patience_t=1, decay_rate=0.5, warmup_t=2, warmup_lr_init=0.0)
    lrs = []
    for epoch, metric in enumerate([50, 60, 60, 60, 60, 70], start=1):
        sched.step(epoch, metric)
        lrs.append(sched.optimizer.param_groups[0]["lr"])
    # epochs 1-2 warm up (0.5, 1.0); epoch 3 sets the best; 4: one bad; 5: two bad > patience -> 0.5
    assert lrs == pytest.approx([0.5, 1.0, 1.0, 1.0, 0.5, 0.5])


def test_state_round_trip_resumes_same_lr():
    opt = _opt()
    sched = create("scheduler", "cosine", opt, t_initial=10)
    for t in range(4):
        sched.step(t)
    state = sched.state_dict()
    other = create("scheduler", "cosine", _opt(), t_initial=10)
    other.load_state_dict(state)
    assert other.optimizer.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"])
    step = create("scheduler", "step", _opt(), decay_t=2)
    with pytest.raises(ConfigError, match="another scheduler"):
        step.load_state_dict(state)


def test_factory_timm_arguments_and_units():
    # 3 updates per epoch, 2 epochs of cosine: t_initial 6 updates; warmup 1 epoch = 3 updates
    sched, epochs = create_scheduler_v2(_opt(), "cosine", num_epochs=2, warmup_epochs=1, warmup_lr=0.0,
                                        step_on_epochs=False, updates_per_epoch=3, cooldown_epochs=1)
    assert (sched.t_initial, sched.warmup_t, epochs) == (6, 3, 3)
    multi, _ = create_scheduler_v2(_opt(), "multistep", decay_milestones=(2, 3), decay_rate=0.5)
    assert list(multi.decay_t) == [2, 3]
    poly, _ = create_scheduler_v2(_opt(), "poly", num_epochs=4, decay_rate=2.0)
    assert poly.power == 2.0
    with pytest.raises(ConfigError, match="once per epoch"):
        create_scheduler_v2(_opt(), "plateau", step_on_epochs=False, updates_per_epoch=3)
    with pytest.raises(OptionsError):
        create("scheduler", "cosine", _opt(), t_initial=-1)


def test_schedule_length_for_total_fits_the_run():
    assert schedule_length_for_total(12, cooldown_epochs=2) == 10
    assert schedule_length_for_total(12, warmup_epochs=2, warmup_prefix=True, cycle_limit=2) == 5
    # cycles of L, 2L with mul 2 fill 9 epochs: L = 3
    assert schedule_length_for_total(9, cycle_mul=2.0, cycle_limit=2) == pytest.approx(3)
    with pytest.raises(ConfigError, match="no room"):
        schedule_length_for_total(2, cooldown_epochs=2)
