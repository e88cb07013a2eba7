"""The optimizer API a timm user relies on: public classes, OptimInfo, per-group lr, printed
defaults, option validation for every name, complex parameters and foreign state_dicts."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import torch
from torch import nn

from pimm import core
from pimm.core.errors import OptionsError
from pimm.core.optim import create_optimizer, get_optimizer_info, list_optimizer_infos, list_optimizers

#: The classes docs/optimizers.md lists under "Classes".
DOC_CLASSES = ["AdaBelief", "Adafactor", "AdafactorBigVision", "Adahessian", "AdamP", "AdamW", "Adan", "Adopt",
               "Kron", "LaProp", "Lamb", "Lars", "Lion", "Lookahead", "MADGRAD", "Mars", "Muon", "NAdamW", "Nadam", "NvNovoGrad",
               "RAdam", "RMSpropTF", "SGDP", "SGDW"]
BUILTIN = [n for n in list_optimizers() if get_optimizer_info(n).plugin == "optim"]
SECOND_ORDER = {n for n in BUILTIN if get_optimizer_info(n).second_order}


def _step(opt, params, create_graph=False):
    loss = sum((p.real if p.is_complex() else p).square().sum() + p.sum().real for p in params)
    opt.zero_grad(set_to_none=True)
    loss.backward(create_graph=create_graph)
    opt.step()


def test_public_classes_are_the_plugin_classes():
    import pimm.core.optim as public
    import pimm.plugins.optim.optimizers as internal
    from pimm.core.optim import SGDW, AdamP, Lamb, NAdamW, RMSpropTF  # noqa: F401

    listed = {n for n, _ in inspect.getmembers(public, inspect.isclass)}
    assert set(DOC_CLASSES) <= listed
    for name in DOC_CLASSES:
        assert getattr(public, name) is getattr(internal, name), name
    with pytest.raises(AttributeError):
        public.NoSuchOptimizer  # noqa: B018


def test_docs_list_every_public_class():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "optimizers.md").read_text()
    for name in DOC_CLASSES:
        assert f"`{name}`" in text, name


def test_info_without_torch():
    code = ("import sys; from pimm.core.optim import get_optimizer_info as g; i = g('cadamw'); "
            "assert i.cautious and i.has_betas and i.target.endswith(':AdamW'); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)


def test_info_facts_match_timm():
    """Capabilities as timm 1.0.31's OptimInfo reports them (read off timm once)."""
    assert get_optimizer_info("adafactorbv").has_momentum and not get_optimizer_info("adafactorbv").has_betas
    assert get_optimizer_info("cadan").num_betas == 3 and get_optimizer_info("cadan").defaults == {
        "no_prox": False, "caution": True}
    assert get_optimizer_info("csgdc").defaults == {"nesterov": True, "caution": True, "corrected_weight_decay": True}
    assert get_optimizer_info("adoptw").defaults == {"decoupled": True}
    assert not get_optimizer_info("clion").has_eps
    assert get_optimizer_info("adahessian").second_order
    assert get_optimizer_info("LAMB").name == "lamb"
    assert get_optimizer_info("lamb").opt_class.__name__ == "Lamb"
    cautious = {i.name for i in list_optimizer_infos("c*") if i.cautious}
    assert {"cadamw", "cadopt", "cadoptw", "clamb", "claprop", "clion", "cmars", "cnadamw", "crmsproptf",
            "csgdw"} <= cautious


@pytest.mark.parametrize("name", BUILTIN)
def test_lr_in_every_group_is_enough(name):
    """torch's rule: no top-level lr needed when every group has one (today's sgdp demanded it)."""
    a = nn.Parameter(torch.randn(3, 4))
    b = nn.Parameter(torch.randn(4))
    opt = create_optimizer([{"params": [a], "lr": 0.03}, {"params": [b], "lr": 0.01}], name)
    if name not in ("adafactor", "cadafactor"):  # lr=None there selects the relative step size
        assert [g["lr"] for g in opt.param_groups] == [0.03, 0.01]
    _step(opt, [a, b], create_graph=name in SECOND_ORDER)
    built = core.create("optimizer", name, [{"params": [nn.Parameter(torch.randn(2))], "lr": 0.02}])
    assert built.param_groups[0]["lr"] == 0.02


def test_missing_lr_everywhere_is_one_clear_error():
    with pytest.raises(OptionsError, match="learning rate"):
        core.create("optimizer", "sgdp", [{"params": [nn.Parameter(torch.randn(2))]}])


def _torch_class(name: str) -> bool:
    """Whether ``name`` builds a torch.optim class or a subclass of one (pimm's leaner RAdam/NAdam steps)."""
    return any(c.__module__.startswith("torch.optim.") and c is not torch.optim.Optimizer
               for c in get_optimizer_info(name).opt_class.__mro__)


TORCH_BACKED = [n for n in BUILTIN if _torch_class(n)]


@pytest.mark.parametrize("name", TORCH_BACKED)
def test_torch_backed_defaults_print_as_torch(name):
    """Options defaults equal torch's signature defaults in value AND type (0 prints as 0, not 0.0)."""
    cls = get_optimizer_info(name).opt_class
    sig = inspect.signature(cls.__init__).parameters
    spec = core.get_spec("optimizer", name)
    for key, field in spec.options.model_fields.items():
        # lr: pimm's documented default; momentum: the factory's 0.9 for names with momentum, as timm
        if key in sig and key not in spec.defaults and key not in ("lr", "momentum"):
            want = sig[key].default
            got = field.default
            if isinstance(want, tuple):
                want = tuple(want)
            assert got == want and type(got) is type(want), f"{name}.{key}: {got!r} vs torch {want!r}"


def test_sgd_repr_matches_torch():
    """The repr is torch's, and shows pimm's fused default (what torch gives only with fused=True)."""
    p = [nn.Parameter(torch.zeros(2))]
    ours = repr(create_optimizer(p, "sgd", lr=0.1))
    theirs = repr(torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.0, fused=True))
    assert ours == theirs
    assert "dampening: 0\n" in ours and "fused: True\n" in ours
    ours = repr(create_optimizer(p, "sgd", lr=0.1, foreach=False))
    assert ours == repr(torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.0, foreach=False))


BAD = {"betas": [(1.0, 0.9), (0.9, -0.1)], "eps": [-1e-8], "momentum": [-0.5], "weight_decay": [-1e-4],
       "lr": [0.0, -1.0, float("nan")]}


@pytest.mark.parametrize("name", BUILTIN)
def test_option_ranges_are_validated_for_every_name(name):
    fields = core.get_spec("optimizer", name).options.model_fields
    num_betas = get_optimizer_info(name).num_betas
    p = [nn.Parameter(torch.zeros(2))]
    tried = 0
    for key, values in BAD.items():
        if key not in fields:
            continue
        for value in values:
            if key == "betas" and num_betas == 3:
                value = (*value, 0.99)
            tried += 1
            with pytest.raises(OptionsError, match=key if key != "lr" else "learning rate|'lr'"):
                create_optimizer(p, name, **{key: value})
            with pytest.raises(OptionsError):
                core.create("optimizer", name, p, **{key: value})
    assert tried


ELEMENTWISE = ["adamwlegacy", "cadamw", "nadamw", "lion", "sgdw", "rmsproptf", "adabelief", "adopt", "laprop",
               "madgrad", "adan", "lamb", "lars"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_complex_params_step_like_their_real_view(name):
    gen = torch.Generator().manual_seed(0)
    z = nn.Parameter(torch.randn(3, 4, dtype=torch.complex64, generator=gen))
    r = nn.Parameter(torch.view_as_real(z.detach()).clone())
    oz = create_optimizer([z], name, lr=1e-2, weight_decay=1e-2)
    orr = create_optimizer([r], name, lr=1e-2, weight_decay=1e-2)
    for _ in range(3):
        g = torch.randn(3, 4, 2, generator=gen)
        z.grad = torch.view_as_complex(g.clone())
        r.grad = g.clone()
        oz.step()
        orr.step()
    torch.testing.assert_close(torch.view_as_real(z.detach()), r.detach(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["adafactor", "adafactorbv", "mars", "adamp", "sgdp"])
def test_complex_params_refused_where_the_rule_is_not_elementwise(name):
    z = nn.Parameter(torch.randn(3, 4, dtype=torch.complex64))
    with pytest.raises(OptionsError, match="complex"):
        create_optimizer([z], name, lr=1e-2)


@pytest.mark.parametrize("src,dst", [("adamw", "sgdw"), ("lamb", "sgd"), ("sgd", "adamwlegacy"),
                                     ("rmsproptf", "lion"), ("adam", "rmsprop"), ("lion", "adopt")])
def test_loading_another_optimizers_state_is_a_load_time_error(src, dst):
    a = [nn.Parameter(torch.randn(3)), nn.Parameter(torch.randn(2, 2))]
    b = [nn.Parameter(p.detach().clone()) for p in a]
    saved = create_optimizer(a, src, lr=1e-2)
    _step(saved, a)
    target = create_optimizer(b, dst, lr=1e-2)
    state = saved.state_dict()
    with pytest.raises(OptionsError, match="different optimizer"):
        target.load_state_dict(state)


def test_old_checkpoint_without_new_options_still_loads():
    """A state_dict saved before 'caution' existed: missing settings come from the defaults."""
    a = [nn.Parameter(torch.randn(3))]
    opt = create_optimizer(a, "lamb", lr=1e-2)
    _step(opt, a)
    state = opt.state_dict()
    for group in state["param_groups"]:
        del group["caution"], group["corrected_weight_decay"], group["peak_lr"]
    b = [nn.Parameter(a[0].detach().clone())]
    fresh = create_optimizer(b, "clamb", lr=1e-2)
    fresh.load_state_dict(state)
    assert "caution" not in state["param_groups"][0]  # not written into the caller's dict
    assert fresh.param_groups[0]["caution"] is True
    _step(fresh, b)
