"""create_optimizer: parameter groups, layer decay, name parsing, argument rules and errors."""

from __future__ import annotations

import copy
import inspect
import math

import pytest
import torch
from torch import nn

from pimm import core
from pimm.core.errors import ConfigError, OptionsError, UnknownComponentError
from pimm.core.optim import (
    create_optimizer,
    create_optimizer_v2,
    list_optimizers,
    param_groups_layer_decay,
    param_groups_weight_decay,
)

FACTORY_NAMES = (
    "sgd momentum adam adamw nadam nadamw radam adamax adadelta adagrad rmsprop rmsproptf adamp sgdp sgdw "
    "lamb lambc lambw lars larc nlars nlarc adabelief radabelief adan adanw adafactor adahessian lion "
    "madgrad madgradw novograd"
).split()


class Block(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)


class TinyNet(nn.Module):
    """A resnet-like miniature with timm's group_matcher and no_weight_decay contract."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.layer1 = nn.Sequential(Block(4), Block(4))
        self.layer2 = nn.Sequential(Block(4))
        self.pos = nn.Parameter(torch.zeros(1, 4, 2, 2))
        self.fc = nn.Linear(4, 3)

    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        return {"stem": r"^conv1|bn1|pos", "blocks": r"^layer(\d+)\.(\d+)"}

    def no_weight_decay(self) -> set[str]:
        return {"pos"}


def test_every_issue_name_is_registered_and_builds():
    assert set(FACTORY_NAMES) <= set(list_optimizers())
    model = nn.Linear(4, 2)
    for name in FACTORY_NAMES:
        opt = create_optimizer(model, name, lr=1e-2)
        assert isinstance(opt, torch.optim.Optimizer), name


def test_alias_and_listing():
    assert create_optimizer_v2 is create_optimizer
    assert list_optimizers("lamb*") == ["lamb", "lambc", "lambcd", "lambcw", "lambw"]
    assert "lars" not in list_optimizers("*ar*", exclude_filters=["lars"])
    assert core.create_optimizer is create_optimizer


def test_spec_flags_match_reference():
    spec = core.get_spec("optimizer", "sgd")
    assert spec.has_momentum and not spec.has_eps and spec.defaults == {"nesterov": True}
    assert core.get_spec("optimizer", "adan").num_betas == 3
    assert core.get_spec("optimizer", "adahessian").second_order
    assert not core.get_spec("optimizer", "lion").has_eps
    assert core.get_spec("optimizer", "adamp").defaults == {"wd_ratio": 0.01, "nesterov": True}


def test_weight_decay_groups_resnet18():
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.resnet18()
    opt = create_optimizer(model, "sgd", lr=0.1, weight_decay=1e-4)
    assert [len(g["params"]) for g in opt.param_groups] == [41, 21]  # timm's figures
    assert [g["weight_decay"] for g in opt.param_groups] == [0.0, 1e-4]
    assert opt.param_groups[0]["nesterov"] and opt.param_groups[0]["momentum"] == 0.9


def test_weight_decay_groups_respect_no_weight_decay_and_frozen():
    model = TinyNet()
    model.fc.weight.requires_grad_(False)
    groups = param_groups_weight_decay(model, 0.01, model.no_weight_decay())
    assert [g["weight_decay"] for g in groups] == [0.0, 0.01]
    no_decay = {id(p) for p in groups[0]["params"]}
    assert id(model.pos) in no_decay and id(model.fc.bias) in no_decay and id(model.bn1.weight) in no_decay
    assert id(model.fc.weight) not in no_decay | {id(p) for p in groups[1]["params"]}
    assert len(param_groups_weight_decay(model, 0.0)) == 1


def test_iterable_params_pass_through_with_weight_decay():
    model = nn.Linear(4, 2)
    opt = create_optimizer(model.parameters(), "adamw", lr=1e-3, weight_decay=0.05)
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["weight_decay"] == 0.05


def test_momentum_eps_betas_injection():
    model = nn.Linear(4, 2)
    assert create_optimizer(model, "rmsproptf", lr=1e-2).param_groups[0]["momentum"] == 0.9
    assert "momentum" not in create_optimizer(model, "adam", lr=1e-2).param_groups[0]
    # eps/betas silently dropped where the optimizer has none (as timm does)
    opt = create_optimizer(model, "sgd", lr=0.1, eps=1e-3, betas=(0.9, 0.99))
    assert "eps" not in opt.param_groups[0]
    opt = create_optimizer(model, "lion", lr=1e-4, eps=1e-3, betas=(0.8, 0.9))
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)
    assert create_optimizer(model, "lars", lr=0.1, foreach=True).param_groups[0]["foreach"] is True


def test_registry_defaults_and_user_values():
    model = nn.Linear(4, 2)
    assert create_optimizer(model, "adabelief", lr=1e-3).param_groups[0]["rectify"] is False
    assert create_optimizer(model, "radabelief", lr=1e-3).param_groups[0]["rectify"] is True
    assert create_optimizer(model, "rmsprop", lr=1e-3).param_groups[0]["alpha"] == 0.9
    assert create_optimizer(model, "momentum", lr=1e-3, nesterov=True).param_groups[0]["nesterov"] is True
    # lr=None leaves the optimizer's own default
    assert create_optimizer(model, "adamw").param_groups[0]["lr"] == 1e-3
    assert create_optimizer(model, "adafactor").param_groups[0]["relative_step"] is True


def test_layer_decay_applies_scale_to_lr():
    model = TinyNet()
    opt = create_optimizer(model, "adamw", lr=1.0, weight_decay=0.05, layer_decay=0.5)
    # layers: stem, layer1.0, layer1.1, layer2.0, head -> 5 ids, scales 0.5^4 .. 1
    scales = sorted({g["lr_scale"] for g in opt.param_groups})
    assert scales == [0.0625, 0.125, 0.25, 0.5, 1.0]
    for g in opt.param_groups:
        assert math.isclose(g["lr"], g["lr_scale"])
        assert 0.0 <= g["lr_scale"] <= 1.0
    head = [g for g in opt.param_groups if any(p is model.fc.weight for p in g["params"])][0]
    assert head["lr_scale"] == 1.0 and head["weight_decay"] == 0.05
    pos = [g for g in opt.param_groups if any(p is model.pos for p in g["params"])][0]
    assert pos["weight_decay"] == 0.0 and pos["lr_scale"] == 0.0625


def test_layer_decay_min_scale_and_callable_matcher():
    model = TinyNet()
    groups = param_groups_layer_decay(model, 0.05, layer_decay=0.1, min_scale=0.05)
    assert min(g["lr_scale"] for g in groups) == 0.05

    class Callable(TinyNet):
        def group_matcher(self, coarse=False):
            return lambda name: 0 if name.startswith(("conv1", "bn1", "pos")) else (1 if "layer" in name else 2)

    groups = param_groups_layer_decay(Callable(), 0.05, layer_decay=0.5)
    assert sorted({g["lr_scale"] for g in groups}) == [0.25, 0.5, 1.0]


def test_layer_decay_without_group_matcher_is_a_clear_error():
    with pytest.raises(ConfigError, match="group_matcher"):
        create_optimizer(nn.Linear(2, 2), "adamw", layer_decay=0.7)


def test_param_group_fn_wins():
    model = TinyNet()
    opt = create_optimizer(model, "sgd", lr=0.1, layer_decay=0.5,
                           param_group_fn=lambda m: [{"params": list(m.parameters()), "lr": 0.5}])
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["lr"] == 0.5


def test_lookahead_prefix():
    from pimm.plugins.optim.optimizers import Lookahead

    opt = create_optimizer(nn.Linear(2, 2), "lookahead_adamw", lr=1e-3)
    assert isinstance(opt, Lookahead) and isinstance(opt.base_optimizer, torch.optim.AdamW)
    assert opt.param_groups[0]["lookahead_k"] == 6 and opt.param_groups[0]["lookahead_alpha"] == 0.5
    assert isinstance(create_optimizer(nn.Linear(2, 2), "LookAhead_SGD", lr=0.1), Lookahead)


@pytest.mark.parametrize("opt", ["fused_adam", "bnb_sgd", "lookahead_lookahead_sgd", "my_adamw"])
def test_unknown_prefix_is_an_error(opt):
    with pytest.raises(ConfigError, match="prefix"):
        create_optimizer(nn.Linear(2, 2), opt, lr=0.1)


def test_unknown_name():
    with pytest.raises(UnknownComponentError):
        create_optimizer(nn.Linear(2, 2), "adamz", lr=0.1)


def test_unaccepted_option_names_the_accepted_ones():
    with pytest.raises(OptionsError, match="Accepted options: lr, .*betas"):
        create_optimizer(nn.Linear(2, 2), "adamw", lr=0.1, momentum_decay=0.1)
    with pytest.raises(OptionsError, match="no multi-tensor path"):
        create_optimizer(nn.Linear(2, 2), "novograd", lr=0.1, foreach=True)


@pytest.mark.parametrize("lr", [0.0, -1e-3, float("nan")])
def test_bad_lr(lr):
    with pytest.raises(OptionsError, match="learning rate"):
        create_optimizer(nn.Linear(2, 2), "sgd", lr=lr)
    with pytest.raises(OptionsError, match="learning rate"):
        create_optimizer([{"params": [nn.Parameter(torch.zeros(2))], "lr": lr}], "sgd", lr=0.1)


def test_empty_params_and_duplicates():
    with pytest.raises(ConfigError, match="empty"):
        create_optimizer([], "sgd", lr=0.1)
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ConfigError, match="empty"):
        create_optimizer(frozen, "adamw", lr=0.1, filter_bias_and_bn=False)
    p = nn.Parameter(torch.zeros(2))
    with pytest.raises(ConfigError, match="exactly one group"):
        create_optimizer([{"params": [p]}, {"params": [p]}], "sgd", lr=0.1)


def test_sgdp_needs_lr():
    with pytest.raises(OptionsError, match="lr"):
        create_optimizer(nn.Linear(2, 2), "sgdp")


def test_third_party_optimizer_registers_and_builds():
    from pimm.core.specs import Options, OptimizerSpec
    from pydantic import Field

    class HalfSGDOptions(Options):
        lr: float = Field(0.1, description="Learning rate.")
        momentum: float = Field(0.0, description="Momentum.")
        weight_decay: float = Field(0.0, description="Weight decay.")

    class Plugin:
        @core.hookimpl
        def pimm_optimizers(self):
            return [OptimizerSpec(name="halfsgd", target="torch.optim:SGD", options=HalfSGDOptions,
                                  has_momentum=True, has_eps=False, defaults={"momentum": 0.5})]

    core.register_plugin(Plugin(), name="halfsgd_plugin")
    try:
        opt = create_optimizer(TinyNet(), "lookahead_halfsgd", lr=0.3, weight_decay=1e-4)
        group = opt.param_groups[-1]
        assert group["momentum"] == 0.5 and group["lr"] == 0.3 and group["weight_decay"] == 1e-4
    finally:
        core.unregister_plugin("halfsgd_plugin")


def test_tutorial_module_lists_the_classes():
    import pimm.plugins.optim.optimizers as optimizers
    from pimm.plugins.optim.optimizers import RMSpropTF

    names = [n for n, _ in inspect.getmembers(optimizers, inspect.isclass)]
    assert names == ["AdaBelief", "Adafactor", "AdafactorBigVision", "Adahessian", "AdamP", "AdamW", "Adan", "Adopt",
                     "Kron", "LaProp", "Lamb", "Lars", "Lion", "Lookahead", "MADGRAD", "Mars", "Muon", "NAdamW", "Nadam",
                     "NvNovoGrad", "RAdam", "RMSpropTF", "SGDP", "SGDW"]
    opt = RMSpropTF(nn.Linear(2, 2).parameters(), lr=0.01)
    assert opt.param_groups[0]["alpha"] == 0.9


@pytest.mark.parametrize("bad", [dict(lr=-1.0), dict(lr=float("nan")), dict(betas=(1.5, 0.9)), dict(eps=-1.0)])
def test_direct_construction_validates(bad):
    from pimm.plugins.optim.optimizers import AdaBelief

    with pytest.raises(OptionsError):
        AdaBelief(nn.Linear(2, 2).parameters(), **bad)


def test_lookahead_state_dict_round_trip_and_zero_grad():
    def run(opt, params, steps, seed):
        gen = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen)
            opt.step()

    params = [nn.Parameter(torch.randn(3, 2)), nn.Parameter(torch.randn(2))]
    opt = create_optimizer(params, "lookahead_adamw", lr=1e-2)
    run(opt, params, 7, 0)
    assert "lookahead_slow_buff" in opt.state[params[0]]
    clones = [nn.Parameter(p.detach().clone()) for p in params]
    fresh = create_optimizer(clones, "lookahead_adamw", lr=1e-2)
    fresh.load_state_dict(copy.deepcopy(opt.state_dict()))  # torch shares state tensors otherwise
    run(opt, params, 6, 1)
    run(fresh, clones, 6, 1)
    for a, b in zip(params, clones):
        assert torch.equal(a, b)
    opt.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in params)
