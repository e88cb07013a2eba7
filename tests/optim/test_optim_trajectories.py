"""Reference trajectories: N steps of each optimizer equal a plain-Python transcription of its rule.

Parameters and gradients are fixed (seeded Python ``random``), rounded to fp32 once so the
reference starts from exactly the tensors' values; the reference then runs in Python floats.
Every pimm optimizer is checked on both its per-tensor and its multi-tensor path.
"""

from __future__ import annotations

import random

import pytest
import torch

import reference_rules as R
import reference_rules_pimm as P
from pimm import core
from pimm.core.optim import create_optimizer

SHAPES = [(4, 5), (5,)]
STEPS = 8


def _fp32(values: list[float]) -> list[float]:
    return torch.tensor(values, dtype=torch.float32).tolist()


def make_problem(shapes=SHAPES, steps=STEPS, seed=0, grad_scale=0.5):
    """Initial params [(shape, values)] and grads[step][param] as fp32-exact Python floats."""
    rng = random.Random(seed)
    params = [(s, _fp32([rng.gauss(0, 1) for _ in range(int(torch.Size(s).numel()))])) for s in shapes]
    grads = [[_fp32([rng.gauss(0, grad_scale) for _ in vals]) for s, vals in params] for _ in range(steps)]
    return params, grads


def run_impl(build, params, grads, dtype=torch.float32):
    tensors = [torch.tensor(v, dtype=dtype).reshape(s).requires_grad_(True) for s, v in params]
    opt = build(tensors)
    for step in grads:
        for t, g, (s, _) in zip(tensors, step, params):
            t.grad = torch.tensor(g, dtype=dtype).reshape(s)
        opt.step()
    return [t.detach().double().flatten().tolist() for t in tensors]


def assert_close(got, want, rel=1e-6, abs_=0.0):
    """Element-wise: |got - want| <= rel·max(|want|, scale) + abs_, scale = the tensor's max |want|.

    fp32 rounding is relative to the magnitudes that were added and cancelled, so an element
    that ended near zero is judged against its tensor's scale rather than its own tiny value.
    """
    for i, (gp, wp) in enumerate(zip(got, want)):
        assert len(gp) == len(wp)
        scale = max(abs(b) for b in wp)
        for j, (a, b) in enumerate(zip(gp, wp)):
            assert abs(a - b) <= rel * max(abs(b), scale) + abs_, f"param {i}[{j}]: impl {a!r} vs reference {b!r}"


def by_name(name, **kw):
    return lambda ps: core.create("optimizer", name, ps, **kw)


# (id, factory name, options, reference fn, reference kwargs)
CASES = [
    ("sgd", "sgd", dict(lr=0.1, momentum=0.9, weight_decay=1e-2), R.ref_sgd,
     dict(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)),
    ("momentum", "momentum", dict(lr=0.1, momentum=0.9, dampening=0.1), R.ref_sgd,
     dict(lr=0.1, momentum=0.9, dampening=0.1)),
    ("adam", "adam", dict(lr=1e-2, weight_decay=1e-2), R.ref_adam, dict(lr=1e-2, weight_decay=1e-2)),
    ("adamw", "adamw", dict(lr=1e-2, weight_decay=0.1), R.ref_adam, dict(lr=1e-2, weight_decay=0.1, decoupled=True)),
    ("adamw-amsgrad", "adamw", dict(lr=1e-2, amsgrad=True), R.ref_adam,
     dict(lr=1e-2, weight_decay=1e-2, decoupled=True, amsgrad=True)),
    ("nadam", "nadam", dict(lr=1e-2, weight_decay=1e-2), R.ref_nadam, dict(lr=1e-2, weight_decay=1e-2)),
    ("radam", "radam", dict(lr=1e-2, weight_decay=1e-2), R.ref_radam, dict(lr=1e-2, weight_decay=1e-2)),
    ("radamw", "radamw", dict(lr=1e-2, weight_decay=1e-2), R.ref_radam,
     dict(lr=1e-2, weight_decay=1e-2, decoupled=True)),
    ("adamax", "adamax", dict(lr=1e-2, weight_decay=1e-2), R.ref_adamax, dict(lr=1e-2, weight_decay=1e-2)),
    ("adadelta", "adadelta", dict(lr=1.0, weight_decay=1e-2), R.ref_adadelta, dict(lr=1.0, weight_decay=1e-2)),
    ("adagrad", "adagrad", dict(lr=0.1, lr_decay=0.01), R.ref_adagrad, dict(lr=0.1, lr_decay=0.01)),
    ("rmsprop", "rmsprop", dict(lr=1e-2, momentum=0.9), R.ref_rmsprop, dict(lr=1e-2, alpha=0.9, momentum=0.9)),
    ("rmsprop-centered", "rmsprop", dict(lr=1e-2, centered=True, weight_decay=1e-2), R.ref_rmsprop,
     dict(lr=1e-2, alpha=0.9, centered=True, weight_decay=1e-2)),
    ("rmsproptf", "rmsproptf", dict(lr=1e-2, momentum=0.9, weight_decay=1e-2), R.ref_rmsprop,
     dict(lr=1e-2, alpha=0.9, eps=1e-10, momentum=0.9, weight_decay=1e-2, tf_style=True)),
    ("rmsproptf-centered-decoupled", "rmsproptf", dict(lr=1e-2, centered=True, weight_decay=0.1,
                                                       decoupled_decay=True), R.ref_rmsprop,
     dict(lr=1e-2, alpha=0.9, eps=1e-10, centered=True, weight_decay=0.1, decoupled_decay=True, tf_style=True)),
    ("rmsproptf-lr-outside", "rmsproptf", dict(lr=1e-2, momentum=0.9, lr_in_momentum=False), R.ref_rmsprop,
     dict(lr=1e-2, alpha=0.9, eps=1e-10, momentum=0.9, tf_style=True, lr_in_momentum=False)),
    ("lamb", "lamb", dict(lr=1e-2), P.ref_lamb, dict(lr=1e-2)),
    ("lambc", "lambc", dict(lr=1e-2, weight_decay=0.1), P.ref_lamb, dict(lr=1e-2, weight_decay=0.1, trust_clip=True)),
    ("lambw", "lambw", dict(lr=1e-2), P.ref_lamb, dict(lr=1e-2, decoupled=True)),
    ("lamb-nowd", "lamb", dict(lr=1e-2, weight_decay=0.0, max_grad_norm=None, grad_averaging=False), P.ref_lamb,
     dict(lr=1e-2, weight_decay=0.0, max_grad_norm=None, grad_averaging=False)),
    ("lamb-adapt", "lamb", dict(lr=1e-2, weight_decay=0.0, always_adapt=True, bias_correction=False), P.ref_lamb,
     dict(lr=1e-2, weight_decay=0.0, always_adapt=True, bias_correction=False)),
    ("lars", "lars", dict(lr=0.1, momentum=0.9, weight_decay=1e-2), P.ref_lars,
     dict(lr=0.1, momentum=0.9, weight_decay=1e-2)),
    ("larc", "larc", dict(lr=0.1, momentum=0.9, weight_decay=1e-2), P.ref_lars,
     dict(lr=0.1, momentum=0.9, weight_decay=1e-2, trust_clip=True)),
    ("nlars", "nlars", dict(lr=0.1, weight_decay=1e-2), P.ref_lars,
     dict(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)),
    ("nlarc", "nlarc", dict(lr=1.0, weight_decay=1e-2), P.ref_lars,
     dict(lr=1.0, momentum=0.9, weight_decay=1e-2, nesterov=True, trust_clip=True)),
    ("lars-nowd", "lars", dict(lr=0.1, momentum=0.9), P.ref_lars, dict(lr=0.1, momentum=0.9)),
    ("adamp", "adamp", dict(lr=1e-2, weight_decay=1e-2), P.ref_adamp,
     dict(lr=1e-2, weight_decay=1e-2, wd_ratio=0.01, nesterov=True)),
    ("adamp-projected", "adamp", dict(lr=1e-2, weight_decay=1e-2, delta=10.0, nesterov=False), P.ref_adamp,
     dict(lr=1e-2, weight_decay=1e-2, wd_ratio=0.01, delta=10.0)),
    ("sgdp", "sgdp", dict(lr=0.1, momentum=0.9, weight_decay=1e-2), P.ref_sgdp,
     dict(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)),
    ("sgdp-projected", "sgdp", dict(lr=0.1, momentum=0.9, weight_decay=1e-2, delta=10.0, nesterov=False),
     P.ref_sgdp, dict(lr=0.1, momentum=0.9, weight_decay=1e-2, delta=10.0)),
    ("sgdw", "sgdw", dict(lr=0.1, momentum=0.9, weight_decay=1e-2), P.ref_sgdw,
     dict(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)),
    ("sgdw-plain", "sgdw", dict(lr=0.1, momentum=0.0, nesterov=False, weight_decay=1e-2), P.ref_sgdw,
     dict(lr=0.1, weight_decay=1e-2)),
    ("adabelief", "adabelief", dict(lr=1e-2, weight_decay=1e-2), P.ref_adabelief,
     dict(lr=1e-2, weight_decay=1e-2, rectify=False)),
    ("radabelief", "radabelief", dict(lr=1e-2, weight_decay=1e-2), P.ref_adabelief,
     dict(lr=1e-2, weight_decay=1e-2, rectify=True)),
    ("adabelief-coupled-amsgrad", "adabelief", dict(lr=1e-2, weight_decay=1e-2, decoupled_decay=False,
                                                    amsgrad=True), P.ref_adabelief,
     dict(lr=1e-2, weight_decay=1e-2, rectify=False, decoupled=False, amsgrad=True)),
    ("adan", "adan", dict(lr=1e-2, weight_decay=0.02), P.ref_adan, dict(lr=1e-2, weight_decay=0.02)),
    ("adanw", "adanw", dict(lr=1e-2, weight_decay=0.02), P.ref_adan, dict(lr=1e-2, weight_decay=0.02, no_prox=True)),
    ("lion", "lion", dict(lr=1e-3, weight_decay=0.1), P.ref_lion, dict(lr=1e-3, weight_decay=0.1)),
    ("madgrad", "madgrad", dict(lr=1e-2, weight_decay=1e-2), P.ref_madgrad, dict(lr=1e-2, weight_decay=1e-2)),
    ("madgradw", "madgradw", dict(lr=1e-2, weight_decay=1e-2), P.ref_madgrad,
     dict(lr=1e-2, weight_decay=1e-2, decoupled=True)),
    ("madgrad-nomomentum", "madgrad", dict(lr=1e-2, momentum=0.0), P.ref_madgrad, dict(lr=1e-2, momentum=0.0)),
    ("madgrad-nomomentum-wd", "madgrad", dict(lr=1e-2, momentum=0.0, weight_decay=1e-2), P.ref_madgrad,
     dict(lr=1e-2, momentum=0.0, weight_decay=1e-2)),
    ("novograd", "novograd", dict(lr=1e-2, weight_decay=1e-2, grad_averaging=True), P.ref_novograd,
     dict(lr=1e-2, weight_decay=1e-2, grad_averaging=True)),
    ("novograd-decoupled", "novograd", dict(lr=1e-2, weight_decay=1e-2, decoupled_decay=True), P.ref_novograd,
     dict(lr=1e-2, weight_decay=1e-2, decoupled=True)),
    ("nadamw", "nadamw", dict(lr=1e-2, weight_decay=0.1), R.ref_adam,
     dict(lr=1e-2, weight_decay=0.1, decoupled=True, nesterov_ahead=True)),
    ("adamwlegacy", "adamwlegacy", dict(lr=1e-2, weight_decay=0.1), R.ref_adam,
     dict(lr=1e-2, weight_decay=0.1, decoupled=True)),
    ("adamwlegacy-amsgrad", "adamwlegacy", dict(lr=1e-2, amsgrad=True), R.ref_adam,
     dict(lr=1e-2, weight_decay=1e-2, decoupled=True, amsgrad=True)),
    ("nadamlegacy", "nadamlegacy", dict(lr=1e-2, weight_decay=1e-2), R.ref_nadam, dict(lr=1e-2, weight_decay=1e-2)),
    ("radamlegacy", "radamlegacy", dict(lr=1e-2, weight_decay=1e-2), R.ref_radam,
     dict(lr=1e-2, weight_decay=1e-2, decoupled=True)),
    ("adafactor-lr", "adafactor", dict(lr=1e-2, betas=(0.9, 0.999), weight_decay=1e-2), P.ref_adafactor,
     dict(lr=1e-2, beta1=0.9, weight_decay=1e-2)),
    ("adafactor-factored", "adafactor", dict(min_dim_size_to_factor=2), P.ref_adafactor,
     dict(min_dim_size_to_factor=2)),
]


@pytest.mark.parametrize("foreach", [False, True, None], ids=["per-tensor", "multi-tensor", "default"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_trajectory_fp32(case, foreach):
    """Every path: per-tensor, multi-tensor, and the default (fused kernels where pimm picks them)."""
    _, name, options, ref, ref_kwargs = case
    fields = core.get_spec("optimizer", name).options.model_fields
    if foreach and "foreach" not in fields:
        pytest.skip("no multi-tensor path")
    if foreach is None and "foreach" not in fields:
        pytest.skip("one path only: the per-tensor case covers it")
    params, grads = make_problem()
    opts = dict(options, foreach=foreach) if "foreach" in fields and foreach is not None else options
    got = run_impl(by_name(name, **opts), params, grads)
    assert_close(got, ref(params, grads, **ref_kwargs))


def test_adafactor_relative_step_factored_large():
    params, grads = make_problem(shapes=[(17, 18), (3,)], steps=4)
    got = run_impl(by_name("adafactor"), params, grads)
    assert_close(got, P.ref_adafactor(params, grads))


def test_lookahead_trajectory():
    params, grads = make_problem(steps=13)
    got = run_impl(lambda ps: create_optimizer(ps, "lookahead_momentum", lr=0.1, momentum=0.0), params, grads)
    want = P.ref_lookahead(params, grads, R.ref_sgd, lr=0.1)
    assert_close(got, want)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_adahessian_on_a_separable_quadratic():
    """loss = ½Σ a·p² + b·p has the exact Hessian diagonal a, whatever the Rademacher draws."""
    rng = random.Random(1)
    n = 6
    a = _fp32([rng.uniform(0.5, 2.0) for _ in range(n)])
    b = _fp32([rng.gauss(0, 1) for _ in range(n)])
    p0 = _fp32([rng.gauss(0, 1) for _ in range(n)])
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p = torch.tensor(p0, requires_grad=True)
    at, bt = torch.tensor(a), torch.tensor(b)
    opt = core.create("optimizer", "adahessian", [p], lr=lr)
    for _ in range(5):
        opt.zero_grad(set_to_none=True)
        (0.5 * (at * p * p).sum() + (bt * p).sum()).backward(create_graph=True)
        opt.step()
    ref = list(p0)
    m, v = [0.0] * n, [0.0] * n
    for t in range(1, 6):
        for j in range(n):
            g = a[j] * ref[j] + b[j]
            m[j] = b1 * m[j] + (1 - b1) * g
            v[j] = b2 * v[j] + (1 - b2) * a[j] ** 2
            ref[j] -= lr / (1 - b1**t) * m[j] / ((v[j] / (1 - b2**t)) ** 0.5 + eps)
    assert_close([p.detach().double().tolist()], [ref], rel=2e-6)


LOW_PRECISION = [
    ("sgd", dict(lr=0.1, momentum=0.9), R.ref_sgd, dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("adamwlegacy", dict(lr=1e-2, weight_decay=0.1), R.ref_adam, dict(lr=1e-2, weight_decay=0.1, decoupled=True)),
    ("lion", dict(lr=1e-2), P.ref_lion, dict(lr=1e-2)),
    ("adabelief", dict(lr=1e-2), P.ref_adabelief, dict(lr=1e-2, rectify=False)),
    ("radamlegacy", dict(lr=1e-2), R.ref_radam, dict(lr=1e-2, decoupled=True)),
    ("sgdw", dict(lr=0.1, weight_decay=1e-2), P.ref_sgdw, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    ("rmsproptf", dict(lr=1e-2), R.ref_rmsprop, dict(lr=1e-2, alpha=0.9, eps=1e-10, momentum=0.9, tf_style=True)),
    ("adafactor", dict(lr=1e-2), P.ref_adafactor, dict(lr=1e-2)),
]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("case", LOW_PRECISION, ids=[c[0] for c in LOW_PRECISION])
def test_trajectory_low_precision(case, dtype):
    """Low-precision params follow the reference within their precision (fp32 state where kept)."""
    name, options, ref, ref_kwargs = case
    if dtype == torch.float16 and name == "adamwlegacy":
        pytest.skip("Adam keeps its state in the parameter dtype: (1-β2)·g² underflows fp16 (as in timm)")
    params, grads = make_problem(steps=4)
    rounded = [(s, torch.tensor(v, dtype=dtype).double().tolist()) for s, v in params]
    grads = [[torch.tensor(g, dtype=dtype).double().tolist() for g in step] for step in grads]
    got = run_impl(by_name(name, **options), rounded, grads, dtype=dtype)
    tol = 2e-2  # bf16 has 8 mantissa bits; fp16 state (10 bits) loses about as much in v·β2 updates
    assert_close(got, ref(rounded, grads, **ref_kwargs), rel=tol)
