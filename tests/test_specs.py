"""Specs are validated, frozen data that survive a JSON round trip."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from pimm.core.specs import (
    SPEC_CLASSES,
    AugmentSpec,
    ModelSpec,
    OptimizerSpec,
    Options,
    PoolSpec,
    PretrainedCfg,
    ReaderSpec,
)


class TinyOptions(Options):
    num_classes: int = Field(1000, description="classes")


def test_every_kind_round_trips_through_json():
    specs = [
        ModelSpec(name="tiny", target="a.b:C", options=TinyOptions, arch_args={"depth": 2},
                  pretrained_cfgs={"x_in1k": PretrainedCfg(hf_hub_id="org/tiny"), "untrained": PretrainedCfg()},
                  tags=frozenset({"features"}), deprecated_names={"old_tiny": "tiny.x_in1k"}),
        PoolSpec(name="gem", target="a:b", feat_mult=1),
        AugmentSpec(name="Rotate", target="a:b", role="op"),
        ReaderSpec(name="csv", target="a:b", prefixes=("csv",)),
        OptimizerSpec(name="sgdx", target="a:b", has_momentum=True, defaults={"nesterov": True}),
    ]
    for spec in specs:
        again = SPEC_CLASSES[spec.kind].model_validate_json(spec.model_dump_json())
        assert again == spec


def test_specs_are_frozen():
    spec = PoolSpec(name="gem", target="a:b")
    with pytest.raises(ValidationError):
        spec.name = "other"


@pytest.mark.parametrize("name", ["has space", "a::b", "9lives", "dot.ted"])
def test_invalid_names_are_rejected(name):
    with pytest.raises(ValidationError, match="invalid component name"):
        PoolSpec(name=name, target="a:b")


@pytest.mark.parametrize("target", ["nocolon", "a.b", "a:", ":b", "a b:c"])
def test_invalid_targets_are_rejected(target):
    with pytest.raises(ValidationError, match="invalid target"):
        PoolSpec(name="x", target=target)


def test_options_must_be_an_options_model():
    with pytest.raises(ValidationError, match="subclass of pimm.core.specs.Options"):
        PoolSpec(name="x", target="a:b", options=dict)
    with pytest.raises(ValidationError, match="cannot import options model"):
        PoolSpec(name="x", target="a:b", options="nowhere.mod:Nothing")


def test_model_arch_args_cannot_shadow_user_options():
    with pytest.raises(ValidationError, match="also user options"):
        ModelSpec(name="m", target="a:b", options=TinyOptions, arch_args={"num_classes": 10})


def test_model_default_tag_is_first_with_weights():
    cfgs = {"untrained": PretrainedCfg(), "b_in1k": PretrainedCfg(url="https://x/b.pth"),
            "c_in1k": PretrainedCfg(hf_hub_id="org/c")}
    assert ModelSpec(name="m", target="a:b", pretrained_cfgs=cfgs).default_tag == "b_in1k"
    assert ModelSpec(name="m", target="a:b", pretrained_cfgs={"untrained": PretrainedCfg()}).default_tag == "untrained"
    assert ModelSpec(name="m", target="a:b").default_tag is None


def test_pretrained_cfg_rejects_unknown_fields_and_knows_has_weights():
    with pytest.raises(ValidationError):
        PretrainedCfg(not_a_field=1)
    assert not PretrainedCfg().has_weights
    assert PretrainedCfg(file="/tmp/w.safetensors").has_weights


def test_call_args_bind_architecture_arguments():
    spec = ModelSpec(name="m", target="a:b", options=TinyOptions, arch_args={"depth": 3})
    assert spec.call_args({"num_classes": 5}) == {"depth": 3, "num_classes": 5}


def test_describe_includes_the_options_schema():
    data = ModelSpec(name="m", target="a:b", options=TinyOptions).describe()
    assert data["kind"] == "model"
    assert data["options_schema"]["properties"]["num_classes"]["description"] == "classes"
