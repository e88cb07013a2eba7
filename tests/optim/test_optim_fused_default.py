"""The factory's fused default: torch's fused kernel for SGD/Adam/AdamW/Adagrad when nothing rules it out."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import reference_rules as R
from test_optim_trajectories import assert_close, make_problem, run_impl
from pimm import core
from pimm.core.optim import create_optimizer

FUSED_NAMES = ["sgd", "momentum", "adam", "adamw", "adagrad"]


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.Linear(4, 3))


def _fused_flags(opt) -> list:
    return [g.get("fused") for g in opt.param_groups]


@pytest.mark.parametrize("name", FUSED_NAMES)
def test_fused_is_picked_on_cpu_when_allowed(name):
    opt = create_optimizer(_model(), name, lr=0.01, weight_decay=1e-4)
    assert opt.pimm_fused_default is True
    assert _fused_flags(opt) == [True, True]  # decay and no-decay groups
    assert "fused: True" in repr(opt)
    assert "fused" in core.get_spec("optimizer", name).tags


def test_names_without_a_fused_kernel_are_left_alone():
    opt = create_optimizer(_model(), "nadam", lr=0.01)
    assert not hasattr(opt, "pimm_fused_default")
    assert "fused" not in core.get_spec("optimizer", "nadam").tags


@pytest.mark.parametrize("kwargs", [dict(foreach=False), dict(foreach=True), dict(fused=False),
                                    dict(differentiable=True)],
                         ids=["foreach-false", "foreach-true", "fused-false", "differentiable"])
@pytest.mark.parametrize("name", ["sgd", "adamw"])
def test_user_choice_is_respected(name, kwargs):
    opt = create_optimizer(_model(), name, lr=0.01, **kwargs)
    assert opt.pimm_fused_default is False
    assert not any(_fused_flags(opt))


def test_a_group_that_chooses_its_path_turns_the_default_off():
    model = _model()
    groups = [{"params": list(model[0].parameters()), "foreach": False}, {"params": list(model[2].parameters())}]
    opt = create_optimizer(groups, "sgd", lr=0.01)
    assert opt.pimm_fused_default is False and not any(_fused_flags(opt))


@pytest.mark.parametrize("params", [
    lambda: [nn.Parameter(torch.randn(3, dtype=torch.complex64)), nn.Parameter(torch.randn(2))],
    lambda: [nn.Parameter(torch.randn(3, device="meta"))],
], ids=["complex", "meta-device"])
def test_parameters_the_kernel_cannot_take_keep_torchs_default(params):
    opt = create_optimizer(params(), "adamw", lr=0.01)
    assert opt.pimm_fused_default is False and not any(_fused_flags(opt))


def test_core_create_builds_exactly_what_is_asked():
    opt = core.create("optimizer", "sgd", [nn.Parameter(torch.zeros(2))], lr=0.1)
    assert not opt.param_groups[0]["fused"]


# (factory name, options, reference rule, reference kwargs): weight_decay always explicit
FUSED_CASES = [
    ("sgd", dict(lr=0.1, momentum=0.9, weight_decay=1e-2), R.ref_sgd,
     dict(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)),
    ("momentum", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.0), R.ref_sgd,
     dict(lr=0.1, momentum=0.9, dampening=0.1)),
    ("adam", dict(lr=1e-2, weight_decay=1e-2), R.ref_adam, dict(lr=1e-2, weight_decay=1e-2)),
    ("adamw", dict(lr=1e-2, weight_decay=0.1), R.ref_adam, dict(lr=1e-2, weight_decay=0.1, decoupled=True)),
    ("adamw", dict(lr=1e-2, weight_decay=1e-2, amsgrad=True), R.ref_adam,
     dict(lr=1e-2, weight_decay=1e-2, decoupled=True, amsgrad=True)),
    ("adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.0), R.ref_adagrad, dict(lr=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize("case", FUSED_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(FUSED_CASES)])
def test_fused_default_follows_the_rule_and_the_unfused_step(case):
    name, options, ref, ref_kwargs = case
    params, grads = make_problem()
    built = []

    def build(ps, **extra):
        built.append(create_optimizer(ps, name, **options, **extra))
        return built[-1]

    fused = run_impl(build, params, grads)
    assert built[-1].pimm_fused_default is True
    loop = run_impl(lambda ps: build(ps, foreach=False), params, grads)
    assert_close(fused, ref(params, grads, **ref_kwargs))
    assert_close(fused, loop, rel=1e-6)


def test_bf16_parameters_take_the_fused_kernel():
    params, grads = make_problem(steps=4)
    rounded = [(s, torch.tensor(v, dtype=torch.bfloat16).double().tolist()) for s, v in params]
    grads = [[torch.tensor(g, dtype=torch.bfloat16).double().tolist() for g in step] for step in grads]
    got = run_impl(lambda ps: create_optimizer(ps, "sgd", lr=0.1), rounded, grads, dtype=torch.bfloat16)
    assert_close(got, R.ref_sgd(rounded, grads, lr=0.1, momentum=0.9, nesterov=True), rel=2e-2)


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
@pytest.mark.parametrize("name", ["sgd", "adagrad"])
def test_sparse_gradients_step_on_the_unfused_path(name):
    torch.manual_seed(0)
    emb, ref = nn.Embedding(10, 3, sparse=True), nn.Embedding(10, 3, sparse=True)
    ref.load_state_dict(emb.state_dict())
    opt = create_optimizer(emb.parameters(), name, lr=0.1)
    slow = create_optimizer(ref.parameters(), name, lr=0.1, foreach=False)
    assert opt.pimm_fused_default is True
    for _ in range(2):
        for module, o in ((emb, opt), (ref, slow)):
            o.zero_grad()
            module(torch.tensor([1, 4, 4])).sum().backward()
            o.step()
    assert _fused_flags(opt) == [False]
    torch.testing.assert_close(emb.weight, ref.weight)


def test_a_group_added_later_with_a_tensor_the_kernel_cannot_take():
    dense = nn.Parameter(torch.ones(3))
    opt = create_optimizer([dense], "adamw", lr=0.1)
    cplx = nn.Parameter(torch.ones(2, dtype=torch.complex64))
    opt.add_param_group({"params": [cplx]})
    assert _fused_flags(opt) == [True, True]  # inherited from the defaults
    dense.grad, cplx.grad = torch.ones(3), torch.ones(2, dtype=torch.complex64)
    opt.step()
    assert _fused_flags(opt) == [True, False]
    assert dense.detach().lt(1).all() and cplx.detach().real.lt(1).all()


def test_state_dict_moves_between_fused_and_unfused():
    model = _model()
    x = torch.randn(5, 6)
    fused = create_optimizer(model, "adamw", lr=0.01)
    model(x).sum().backward()
    fused.step()
    plain = create_optimizer(model, "adamw", lr=0.01, foreach=False)
    plain.load_state_dict(fused.state_dict())
    plain.step()
    fused.load_state_dict(plain.state_dict())
    fused.step()
    assert all(int(s["step"]) == 3 for s in fused.state.values())
