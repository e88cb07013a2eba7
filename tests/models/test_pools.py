"""Pools as components: the builtin five, their math, and any registered pool in any model's head."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pimm import core
from pimm.core.errors import OptionsError
from pimm.core.models.head import ClassifierHead, create_classifier, create_pool, pool_feat_mult
from pimm.core.specs import PoolSpec

X = torch.randn(3, 5, 4, 6)
REFERENCE = {
    "avg": lambda x: x.mean((2, 3), keepdim=True),
    "max": lambda x: x.amax((2, 3), keepdim=True),
    "avgmax": lambda x: 0.5 * (x.mean((2, 3), keepdim=True) + x.amax((2, 3), keepdim=True)),
    "catavgmax": lambda x: torch.cat([x.mean((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)], 1),
}


def test_builtin_pools_registered_with_multipliers():
    assert {"", "avg", "max", "avgmax", "catavgmax"} <= set(core.list_names("pool"))
    assert {n: core.get_spec("pool", n).feat_mult for n in REFERENCE} == {
        "avg": 1, "max": 1, "avgmax": 1, "catavgmax": 2,
    }
    assert pool_feat_mult("") == pool_feat_mult(None) == 1


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_pool_math_and_flatten(name):
    expected = REFERENCE[name](X)
    assert torch.allclose(core.create("pool", name)(X), expected, atol=1e-6)
    flat = core.create("pool", name, flatten=True)(X)
    assert flat.shape == (3, 5 * core.get_spec("pool", name).feat_mult)
    assert torch.allclose(flat, expected.flatten(1), atol=1e-6)


def test_identity_pool_and_create_pool():
    assert core.create("pool", "")(X) is X
    assert core.create("pool", "", flatten=True)(X).shape == (3, 5 * 4 * 6)
    for name in ("", None):
        pool = create_pool(name, flatten=True)  # '' never flattens inside a head
        assert pool(X) is X and pool.pool_type == ""
    pool = create_pool("catavgmax")
    assert pool.pool_type == "catavgmax" and pool.feat_mult() == 2 and pool(X).shape == (3, 10)


def test_pool_options_validated():
    with pytest.raises(OptionsError, match="flatten"):
        core.create("pool", "avg", flat=True)


def test_classifier_head():
    head = ClassifierHead(5, 7, "catavgmax", drop_rate=0.1).eval()
    assert head.num_features == 10 and head.fc.in_features == 10
    assert head(X).shape == (3, 7) and head(X, pre_logits=True).shape == (3, 10)
    head.reset(0, "")
    assert isinstance(head.fc, nn.Identity) and head(X).shape == X.shape and not head.global_pool.training
    pool, fc = create_classifier(5, 0, "max")
    assert isinstance(fc, nn.Identity) and pool(X).shape == (3, 5)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_every_pool_in_a_resnet_head(name):
    model = core.create("model", "test_resnet", num_classes=0, global_pool=name).eval()
    mult = core.get_spec("pool", name).feat_mult
    assert model.head_hidden_size == 96 * mult
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 96 * mult)


def test_unknown_pool_is_a_clear_option_error():
    with pytest.raises(OptionsError, match="global_pool") as info:
        core.create("model", "test_resnet", global_pool="avgmaxx")
    assert "avgmax" in str(info.value)


class TriplePool(nn.Module):
    """A third-party pool: mean, max and min stacked on channels (feat_mult 3)."""

    def __init__(self, flatten: bool = False) -> None:
        super().__init__()
        self.flatten = flatten

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([x.mean((2, 3), keepdim=True), x.amax((2, 3), keepdim=True), x.amin((2, 3), keepdim=True)], 1)
        return out.flatten(1) if self.flatten else out


class _ThirdPartyPools:
    @core.hookimpl
    def pimm_pools(self):
        return [PoolSpec(name="triple", target=f"{__name__}:TriplePool",
                         options="pimm.core.models.options:PoolOptions", feat_mult=3)]


@pytest.fixture
def triple_pool():
    core.register_plugin(_ThirdPartyPools(), name="third_party_pools")
    try:
        yield "triple"
    finally:
        core.unregister_plugin("third_party_pools")


def test_third_party_pool_works_in_every_builtin_head(triple_pool):
    model = core.create("model", "test_resnet", global_pool=triple_pool, num_classes=4).eval()
    assert model.head_hidden_size == 288 and model.fc.in_features == 288
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 4)
    model.reset_classifier(0)
    assert model.global_pool.pool_type == "triple"
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 288)
    head = ClassifierHead(8, 2, triple_pool)
    assert head.num_features == 24


#: timm 1.0.31's printed form of its pooling module (REFERENCE.md section 4), flatten on and off.
TIMM_FORM = "SelectAdaptivePool2d(pool_type={}, flatten={})"
FLAT, KEPT = "Flatten(start_dim=1, end_dim=-1)", "Identity()"


@pytest.mark.parametrize("name", ["avg", "max", "avgmax", "catavgmax", ""])
def test_pools_print_and_answer_like_timm(name):
    for flatten, text in ((True, FLAT), (False, KEPT)):
        pool = core.create("pool", name, flatten=flatten)
        assert repr(pool) == TIMM_FORM.format(name, text)
        assert pool.is_identity() is (name == "")
        assert pool.feat_mult() == (2 if name == "catavgmax" else 1)


def test_model_global_pool_prints_like_timm_before_and_after_reset():
    model = core.create_model("resnet10t", num_classes=5)
    assert repr(model.global_pool) == TIMM_FORM.format("avg", FLAT)
    model.reset_classifier(0, "")
    assert repr(model.global_pool) == TIMM_FORM.format("", KEPT) and model.global_pool.is_identity()
    model.reset_classifier(3, "catavgmax")
    assert repr(model.global_pool) == TIMM_FORM.format("catavgmax", FLAT)
    assert model.global_pool.feat_mult() == 2 and model.fc.in_features == 2 * model.num_features
    assert repr(core.create_model("resnet10t", global_pool="").global_pool) == TIMM_FORM.format("", KEPT)
    vgg_head = core.create_model("vgg11", num_classes=5).head
    assert f"(global_pool): {TIMM_FORM.format('avg', FLAT)}" in repr(vgg_head)
