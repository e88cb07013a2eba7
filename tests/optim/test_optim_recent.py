"""Reference trajectories of timm 1.0.31's newer optimizers, the cautious variants and corrected decay.

Each case runs the factory name (per-tensor and, where it has one, multi-tensor path) and compares
with the plain-Python rule in ``reference_rules_recent``. Corrected weight decay is only visible
when the lr in use differs from the peak: those cases build with ``lr=PEAK`` and then run at
``LR`` (what a schedule does), so decaying with ``lr`` instead of ``lr²/peak`` fails them.
"""

from __future__ import annotations

import copy

import pytest
import torch

import reference_rules_matrix as M
import reference_rules_recent as N
from pimm import core
from test_optim_trajectories import assert_close, make_problem, run_impl

PEAK, LR = 2e-2, 1e-2
SHAPES_BV = [(16, 20), (5,), (20, 16)]


def build(name, run_lr=None, **kw):
    def make(ps):
        opt = core.create("optimizer", name, ps, **kw)
        if run_lr is not None:
            for group in opt.param_groups:
                group["lr"] = run_lr
        return opt
    return make


# (id, factory name, options, lr to run at (None: as built), reference fn, reference kwargs)
CASES = [
    ("adamc", "adamc", dict(lr=PEAK, weight_decay=0.5), LR, N.ref_adamw, dict(lr=LR, weight_decay=0.5, peak_lr=PEAK)),
    ("cadamw", "cadamw", dict(lr=1e-2, weight_decay=0.1), None, N.ref_adamw,
     dict(lr=1e-2, weight_decay=0.1, cautious=True)),
    ("cadamc", "cadamc", dict(lr=PEAK, weight_decay=0.5), LR, N.ref_adamw,
     dict(lr=LR, weight_decay=0.5, cautious=True, peak_lr=PEAK)),
    ("nadamc", "nadamc", dict(lr=PEAK, weight_decay=0.5), LR, N.ref_adamw,
     dict(lr=LR, weight_decay=0.5, peak_lr=PEAK, nesterov_ahead=True)),
    ("cnadamw", "cnadamw", dict(lr=1e-2, weight_decay=0.1), None, N.ref_adamw,
     dict(lr=1e-2, weight_decay=0.1, cautious=True, nesterov_ahead=True)),
    ("clion", "clion", dict(lr=1e-3, weight_decay=0.1), None, N.ref_lion, dict(lr=1e-3, weight_decay=0.1, cautious=True)),
    ("lionc", "lionc", dict(lr=PEAK, weight_decay=1.0), LR, N.ref_lion, dict(lr=LR, weight_decay=1.0, peak_lr=PEAK)),
    ("csgdw", "csgdw", dict(lr=0.1, weight_decay=1e-2), None, N.ref_sgdw, dict(lr=0.1, weight_decay=1e-2, cautious=True)),
    ("csgdw-classic", "csgdw", dict(lr=0.1, nesterov=False), None, N.ref_sgdw,
     dict(lr=0.1, nesterov=False, cautious=True)),
    ("sgdc", "sgdc", dict(lr=0.2, weight_decay=0.5), 0.1, N.ref_sgdw, dict(lr=0.1, weight_decay=0.5, peak_lr=0.2)),
    ("clamb", "clamb", dict(lr=1e-2, weight_decay=0.1), None, N.ref_lamb, dict(lr=1e-2, weight_decay=0.1, cautious=True)),
    ("lambcd", "lambcd", dict(lr=PEAK, weight_decay=0.5), LR, N.ref_lamb,
     dict(lr=LR, weight_decay=0.5, decoupled=True, peak_lr=PEAK)),
    ("crmsproptf", "crmsproptf", dict(lr=1e-2, momentum=0.9, weight_decay=1e-2), None, N.ref_rmsproptf,
     dict(lr=1e-2, weight_decay=1e-2, cautious=True)),
    ("rmsproptfc", "rmsproptfc", dict(lr=PEAK, momentum=0.9, weight_decay=0.5), LR, N.ref_rmsproptf,
     dict(lr=LR, weight_decay=0.5, decoupled=True, peak_lr=PEAK)),
    ("adopt", "adopt", dict(lr=1e-2, weight_decay=1e-2), None, N.ref_adopt, dict(lr=1e-2, weight_decay=1e-2)),
    ("adopt-noclip", "adopt", dict(lr=1e-2, clip_exp=None), None, N.ref_adopt, dict(lr=1e-2, clip_exp=None)),
    ("adopt-eps", "adopt", dict(lr=1e-2, eps=0.3), None, N.ref_adopt, dict(lr=1e-2, eps=0.3)),
    ("adoptw", "adoptw", dict(lr=1e-2, weight_decay=0.1), None, N.ref_adopt,
     dict(lr=1e-2, weight_decay=0.1, decoupled=True)),
    ("adoptc", "adoptc", dict(lr=PEAK, weight_decay=0.5), LR, N.ref_adopt,
     dict(lr=LR, weight_decay=0.5, decoupled=True, peak_lr=PEAK)),
    ("cadopt", "cadopt", dict(lr=1e-2, weight_decay=1e-2), None, N.ref_adopt,
     dict(lr=1e-2, weight_decay=1e-2, cautious=True)),
    ("cadoptw", "cadoptw", dict(lr=1e-2, weight_decay=0.1), None, N.ref_adopt,
     dict(lr=1e-2, weight_decay=0.1, decoupled=True, cautious=True)),
    ("laprop", "laprop", dict(lr=1e-2, weight_decay=0.1), None, N.ref_laprop, dict(lr=1e-2, weight_decay=0.1)),
    ("laprop-eps", "laprop", dict(lr=1e-2, eps=1e-3), None, N.ref_laprop, dict(lr=1e-2, eps=1e-3)),
    ("claprop", "claprop", dict(lr=1e-2, weight_decay=0.1), None, N.ref_laprop,
     dict(lr=1e-2, weight_decay=0.1, cautious=True)),
    ("mars", "mars", dict(lr=1e-2, weight_decay=0.1), None, N.ref_mars, dict(lr=1e-2, weight_decay=0.1)),
    ("mars-1d", "mars", dict(lr=1e-2, optimize_1d=True, gamma=0.1), None, N.ref_mars,
     dict(lr=1e-2, optimize_1d=True, gamma=0.1)),
    ("mars-lion", "mars", dict(lr=1e-3, mars_type="lion", betas_1d=(0.8, 0.9), lr_1d_factor=0.5), None, N.ref_mars,
     dict(lr=1e-3, mars_type="lion", betas_1d=(0.8, 0.9), lr_1d_factor=0.5)),
    ("mars-eps", "mars", dict(lr=1e-2, eps=1e-3), None, N.ref_mars, dict(lr=1e-2, eps=1e-3)),
    ("cmars", "cmars", dict(lr=1e-2, weight_decay=0.1), None, N.ref_mars,
     dict(lr=1e-2, weight_decay=0.1, cautious=True)),
]

BV_CASES = [
    ("adafactorbv", "adafactorbv", dict(momentum_dtype="float32", weight_decay=1e-2, lr=0.1), None,
     dict(lr=0.1, weight_decay=1e-2)),
    ("adafactorbv-clip-nomomentum", "adafactorbv", dict(lr=0.1, momentum=None, clipping_threshold=0.5, eps=1e-3),
     None, dict(lr=0.1, momentum=None, clipping_threshold=0.5, eps=1e-3)),
    ("adafactorbv-offset", "adafactorbv", dict(lr=0.1, momentum_dtype="float32", decay_offset=2, beta2_cap=0.9),
     None, dict(lr=0.1, decay_offset=2, beta2_cap=0.9)),
    ("cadafactorbvc", "cadafactorbvc", dict(lr=0.2, weight_decay=0.5, momentum_dtype="float32"), 0.1,
     dict(lr=0.1, weight_decay=0.5, cautious=True, peak_lr=0.2)),
]


@pytest.mark.parametrize("foreach", [False, True], ids=["per-tensor", "multi-tensor"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_recent_trajectory(case, foreach):
    _, name, options, run_lr, ref, ref_kwargs = case
    fields = core.get_spec("optimizer", name).options.model_fields
    if foreach and "foreach" not in fields:
        pytest.skip("no multi-tensor path")
    params, grads = make_problem()
    opts = dict(options, foreach=foreach) if "foreach" in fields else options
    got = run_impl(build(name, run_lr, **opts), params, grads)
    assert_close(got, ref(params, grads, **ref_kwargs), rel=2e-6)


@pytest.mark.parametrize("case", BV_CASES, ids=[c[0] for c in BV_CASES])
def test_adafactorbv_trajectory(case):
    _, name, options, run_lr, ref_kwargs = case
    params, grads = make_problem(shapes=SHAPES_BV, steps=5)
    got = run_impl(build(name, run_lr, **options), params, grads)
    assert_close(got, N.ref_adafactorbv(params, grads, **ref_kwargs), rel=5e-6)


def test_adafactorbv_keeps_bf16_momentum_by_default():
    p = torch.nn.Parameter(torch.randn(16, 16))
    opt = core.create("optimizer", "adafactorbv", [p])
    p.grad = torch.randn(16, 16)
    opt.step()
    assert opt.state[p]["exp_avg"].dtype == torch.bfloat16
    fresh = core.create("optimizer", "adafactorbv", [torch.nn.Parameter(p.detach().clone())])
    fresh.load_state_dict(opt.state_dict())
    assert next(iter(fresh.state.values()))["exp_avg"].dtype == torch.bfloat16


def test_caution_changes_the_step_only_where_signs_disagree():
    """With the gradient's sign equal to the momentum's everywhere, caution is a no-op."""
    a = torch.nn.Parameter(torch.ones(6))
    b = torch.nn.Parameter(torch.ones(6))
    plain = core.create("optimizer", "sgdw", [a], lr=0.1, momentum=0.9)
    careful = core.create("optimizer", "csgdw", [b], lr=0.1, momentum=0.9)
    for _ in range(3):
        a.grad = torch.full((6,), 0.5)
        b.grad = torch.full((6,), 0.5)
        plain.step()
        careful.step()
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    b.grad = torch.tensor([-0.1, -0.1, -0.1, 0.5, 0.5, 0.5])  # disagrees with the momentum on half
    before = b.detach().clone()
    careful.step()
    moved = (b.detach() - before).abs()
    assert torch.all(moved[:3] == 0) and torch.all(moved[3:] > 0)


MUON_SHAPES = [(6, 5), (5,), (4, 2, 2, 2), (4, 1, 3, 3), (12, 4)]
MUON_CASES = [
    ("muon", "muon", dict(weight_decay=0.1), dict(weight_decay=0.1)),
    ("nmuon", "nmuon", dict(weight_decay=0.1, fallback_lr_scale=0.5), dict(weight_decay=0.1, nesterov=True,
                                                                          fallback_lr_scale=0.5)),
    ("muon-unscaled", "muon", dict(adjust_lr_fn=None, betas=(0.8, 0.9)), dict(adjust="none", betas=(0.8, 0.9))),
]


@pytest.mark.parametrize("case", MUON_CASES, ids=[c[0] for c in MUON_CASES])
def test_muon_trajectory(case):
    """fp64 Newton-Schulz (ns_dtype) against the plain-Python iteration; fallback for the rest."""
    _, name, options, ref_kwargs = case
    params, grads = make_problem(shapes=MUON_SHAPES, steps=4)
    got = run_impl(build(name, ns_dtype="float64", **options), params, grads, dtype=torch.float64)
    assert_close(got, M.ref_muon(params, grads, **ref_kwargs), rel=1e-9)


def test_muon_routes_like_timm():
    from pimm.plugins.optim.muon import muon_suitable

    assert muon_suitable((64, 128)) and muon_suitable((96, 3, 4, 4))
    assert not muon_suitable((4, 2048)) and not muon_suitable((64,)) and not muon_suitable((1, 196, 768))
    assert not muon_suitable((32, 1, 3, 3))  # depthwise
    p = torch.nn.Parameter(torch.randn(8, 8))
    opt = core.create("optimizer", "muon", [{"params": [p], "use_fallback": True}])
    p.grad = torch.randn(8, 8)
    opt.step()
    assert opt.state[p]["use_muon"] is False and "exp_avg" in opt.state[p]


def test_newton_schulz_orthogonalizes():
    from pimm.plugins.optim.muon import NS_COEFFICIENTS, newton_schulz

    g = torch.randn(16, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = newton_schulz(g, 5, NS_COEFFICIENTS["quintic"], dtype=torch.float64)
    sv = torch.linalg.svdvals(x)
    assert x.shape == g.shape and float(sv.min()) > 0.6 and float(sv.max()) < 1.25  # all near 1


KRON_CASES = [  # (id, name, options, reference kwargs, gradient scale: 5 makes the RMS clip act)
    ("kron", "kron", dict(lr=1e-2, weight_decay=1e-2), dict(lr=1e-2, weight_decay=1e-2), 0.5),
    ("kronw", "kronw", dict(lr=1e-2, weight_decay=0.1, momentum=0.5, precond_lr=0.3),
     dict(lr=1e-2, weight_decay=0.1, decoupled=True, momentum=0.5, precond_lr=0.3), 0.5),
    ("kron-clipped", "kron", dict(lr=1e-2), dict(lr=1e-2), 5.0),
]


@pytest.mark.parametrize("case", KRON_CASES, ids=[c[0] for c in KRON_CASES])
def test_kron_trajectory(case):
    """fp64 Kron against the plain-Python rule, fed the same normal probes (drawn in the same order)."""
    _, name, options, ref_kwargs, grad_scale = case
    shapes = [(4, 5), (5,)]
    params, grads = make_problem(shapes=shapes, steps=6, grad_scale=grad_scale)
    torch.manual_seed(7)
    probes = [[torch.randn(s, dtype=torch.float64).flatten().tolist() for s in shapes] for _ in grads]
    torch.manual_seed(7)
    got = run_impl(build(name, **options), params, grads, dtype=torch.float64)
    # the probe solve runs in fp32 (as in timm), so fp64 parameters agree to ~1e-8
    assert_close(got, M.ref_kron(params, grads, probes, **ref_kwargs), rel=1e-7)


def test_kron_state_dict_resumes_exactly_when_deterministic():
    def make():
        gen = torch.Generator().manual_seed(0)
        return [torch.nn.Parameter(torch.randn(6, 4, generator=gen)), torch.nn.Parameter(torch.randn(4, generator=gen))]

    def grads(step):
        gen = torch.Generator().manual_seed(100 + step)
        return [torch.randn(6, 4, generator=gen), torch.randn(4, generator=gen)]

    a = make()
    opt = core.create("optimizer", "kron", a, lr=1e-2, deterministic=True)
    for s in range(3):
        for p, g in zip(a, grads(s)):
            p.grad = g
        opt.step()
    b = [torch.nn.Parameter(p.detach().clone()) for p in a]
    fresh = core.create("optimizer", "kron", b, lr=1e-2, deterministic=True)
    fresh.load_state_dict(copy.deepcopy(opt.state_dict()))  # torch aliases same-dtype state tensors
    for s in range(3, 6):
        for p, q, g in zip(a, b, grads(s)):
            p.grad, q.grad = g, g.clone()
        opt.step()
        fresh.step()
    for p, q in zip(a, b):
        assert torch.equal(p, q)
