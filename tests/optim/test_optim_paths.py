"""The multi-tensor path equals the per-tensor reference path, and the default path choice."""

from __future__ import annotations

import pytest
import torch

from pimm import core
from pimm.plugins.optim._base import use_multi_tensor

MULTI = ["rmsproptf", "lamb", "lambw", "lars", "nlarc", "adamp", "sgdp", "sgdw", "adabelief", "radabelief",
         "adan", "adanw", "lion", "madgrad", "nadamw", "adamwlegacy"]


def _params(seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shapes = [(8, 3, 3, 3), (8,), (16, 8), (5,), (1, 1)]
    return [torch.randn(s, generator=gen).requires_grad_(True) for s in shapes]


def _trajectory(name: str, foreach: bool, steps: int = 6) -> list[torch.Tensor]:
    params = _params()
    opt = core.create("optimizer", name, params, lr=1e-2, weight_decay=1e-2, foreach=foreach)
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen)
        params[-1].grad = None if _ % 2 else params[-1].grad  # a param that sometimes has no grad
        opt.step()
    return [p.detach() for p in params]


@pytest.mark.parametrize("name", MULTI)
def test_multi_tensor_equals_per_tensor(name):
    single, multi = _trajectory(name, False), _trajectory(name, True)
    for a, b in zip(single, multi):
        torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-6)


def test_sgdw_default_takes_the_fused_kernel_and_equals_per_tensor():
    """A parameter whose first gradient comes late gets its buffer from the kernel's first step."""
    def run(foreach):
        params = _params()
        opt = core.create("optimizer", "sgdw", params, lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True,
                          foreach=foreach)
        gen = torch.Generator().manual_seed(1)
        for step in range(4):
            for i, p in enumerate(params):
                p.grad = None if (i == 1 and step == 0) else torch.randn(p.shape, generator=gen)
            opt.step()
        return opt, params

    (fused, a), (_, b) = run(None), run(False)
    assert all("momentum_buffer" in fused.state[p] for p in a)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-7)


def test_sgdw_fused_path_is_declined_for_caution_and_complex():
    from pimm.plugins.optim.sgdw import SGDW

    p = torch.zeros(3, requires_grad=True)
    opt = SGDW([p], lr=0.1, momentum=0.9, caution=True)
    p.grad = torch.ones(3)
    assert opt._fused(opt.param_groups[0], [p], [p.grad], [{}], None) is False
    meta = torch.zeros(3, device="meta")
    assert SGDW([meta], lr=0.1)._fused({"caution": False}, [meta], [meta], [{}], None) is False


def test_default_path_is_per_tensor_on_cpu_and_multi_tensor_on_cuda():
    cpu = [torch.zeros(2)]
    assert use_multi_tensor(None, cpu) is False
    assert use_multi_tensor(True, cpu) is True
    meta_cuda = [torch.empty(2, device="meta")]
    assert use_multi_tensor(None, meta_cuda) is False
    if torch.cuda.is_available():
        assert use_multi_tensor(None, [torch.zeros(2, device="cuda")]) is True


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", MULTI)
def test_cuda_default_matches_per_tensor(name):
    params = [p.detach().cuda().requires_grad_(True) for p in _params()]
    ref = [p.detach().clone().requires_grad_(True) for p in params]
    fast = core.create("optimizer", name, params, lr=1e-2)
    slow = core.create("optimizer", name, ref, lr=1e-2, foreach=False)
    for _ in range(3):
        for p, q in zip(params, ref):
            p.grad = torch.ones_like(p) * 0.1
            q.grad = torch.ones_like(q) * 0.1
        fast.step()
        slow.step()
    for a, b in zip(params, ref):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


# factory name -> (torch class, options that reach every branch of the lean step)
LEAN = {
    "radam": (torch.optim.RAdam, dict(lr=1e-2, weight_decay=1e-2)),
    "radamw": (torch.optim.RAdam, dict(lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True)),
    "nadam": (torch.optim.NAdam, dict(lr=1e-2, weight_decay=1e-2)),
    "nadam-decoupled": (torch.optim.NAdam, dict(lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True)),
    "nadam-maximize": (torch.optim.NAdam, dict(lr=1e-2, maximize=True, momentum_decay=0.04)),
}


@pytest.mark.parametrize("case", sorted(LEAN))
def test_lean_step_is_torchs_class_and_equals_torchs_step(case):
    """'radam'/'nadam' build torch's class: same repr, state_dict and pickling; the lean step equals torch's."""
    import copy
    import pickle

    cls, options = LEAN[case]
    name = case.split("-")[0]
    extra = {"decoupled_weight_decay": True} if name == "radamw" else {}
    params = _params()
    ref = [p.detach().clone().requires_grad_(True) for p in params]
    ours = core.create("optimizer", name, params, **{k: v for k, v in options.items() if k not in extra})
    theirs = cls(ref, **options)
    assert isinstance(ours, cls) and type(ours) is not cls and repr(ours) == repr(theirs)
    gen = torch.Generator().manual_seed(1)
    for step in range(8):  # radam: both regimes, the SGD-like start (rho_t <= 5) and the rectified steps
        for p, q in zip(params, ref):
            p.grad = torch.randn(p.shape, generator=gen)
            q.grad = p.grad.clone()
        ours.step()
        theirs.step()
        if step == 3:  # state moves both ways between the two implementations
            ours.load_state_dict(copy.deepcopy(theirs.state_dict()))  # torch would share the tensors
    for a, b in zip(params, ref):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert type(pickle.loads(pickle.dumps(ours))).__name__ == cls.__name__
    assert sorted(ours.state_dict()["state"][0]) == sorted(theirs.state_dict()["state"][0])
    if name == "nadam":  # the momentum schedule's running product is torch's to the bit
        for a, b in zip(ours.state_dict()["state"].values(), theirs.state_dict()["state"].values()):
            assert a["mu_product"].dtype == b["mu_product"].dtype and a["mu_product"].item() == b["mu_product"].item()


@pytest.mark.parametrize("name", ["radam", "nadam"])
def test_lean_step_takes_complex_parameters_as_torch_does(name):
    gen = torch.Generator().manual_seed(2)
    ours = [torch.randn(4, 3, dtype=torch.complex64, generator=gen).requires_grad_(True)]
    ref = [ours[0].detach().clone().requires_grad_(True)]
    cls = {"radam": torch.optim.RAdam, "nadam": torch.optim.NAdam}[name]
    opt, theirs = core.create("optimizer", name, ours, lr=1e-2, weight_decay=1e-2), cls(ref, lr=1e-2, weight_decay=1e-2)
    for _ in range(7):
        ours[0].grad = torch.randn(4, 3, dtype=torch.complex64, generator=gen)
        ref[0].grad = ours[0].grad.clone()
        opt.step()
        theirs.step()
    torch.testing.assert_close(ours[0], ref[0], rtol=1e-6, atol=1e-7)
    assert sorted(opt.state[ours[0]]) == sorted(theirs.state[ref[0]])


@pytest.mark.parametrize("name", ["radam", "nadam"])
def test_lean_step_keeps_torchs_step_where_it_does_not_apply(name, monkeypatch):
    p = torch.zeros(3, requires_grad=True)
    opt = core.create("optimizer", name, [p], lr=0.1, foreach=True)
    p.grad = torch.ones(3)

    def lean(*_):
        raise AssertionError("the lean step ran for foreach=True")

    monkeypatch.setattr(type(opt), "_step_one", lean)
    opt.step()  # torch's own (multi-tensor) step
    assert p.detach().lt(0).all()
