"""Registry lookups, listing and create(): names, aliases, qualified names, suggestions, options."""

from __future__ import annotations

import pytest
from pydantic import Field

from pimm import core
from pimm.core.errors import ConfigError, OptionsError, PimmError, UnknownComponentError
from pimm.core.registry import natural_key
from pimm.core.specs import Options, PoolSpec


class WidgetOptions(Options):
    size: int = Field(3, ge=1, description="how big")
    mode: str = Field("fast", pattern="^(fast|slow)$", description="speed")


def build_widget(*args, **kwargs):
    return {"args": args, **kwargs}


class Box:
    """A result object that can carry its origin."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs


NAMES = ["resnet101", "resnet18", "resnet26", "resnet50d", "resnet50", "vgg16", "Resnet34"]


class FakePools:
    @core.hookimpl
    def pimm_pools(self):
        specs = [PoolSpec(name=n, target="test_registry_and_create:build_widget", options=WidgetOptions,
                          summary=f"fake {n}") for n in NAMES]
        specs.append(PoolSpec(name="boxed", target="test_registry_and_create:Box", options=WidgetOptions,
                              aliases=("box", "crate")))
        return specs


@pytest.fixture
def fake():
    name = core.register_plugin(FakePools(), name="fakepools")
    yield name
    core.unregister_plugin(name)


def test_natural_sort_and_patterns(fake):
    assert core.list_names("pool", "resnet*") == ["resnet18", "resnet26", "resnet50", "resnet50d", "resnet101"]
    assert core.list_names("pool", ["vgg*", "Resnet*"]) == ["Resnet34", "vgg16"]
    assert core.list_names("pool", "resnet*", exclude=["*d", "resnet1*"]) == ["resnet26", "resnet50"]
    assert natural_key("resnet18") < natural_key("resnet26") < natural_key("resnet101")


def test_create_validates_and_passes_options(fake):
    assert core.create("pool", "resnet18", size=5) == {"args": (), "size": 5, "mode": "fast"}
    assert core.create("pool", "resnet18", 1, 2)["args"] == (1, 2)


def test_create_from_config_dict(fake):
    assert core.create({"kind": "pool", "name": "vgg16", "mode": "slow"}) == {"args": (), "size": 3, "mode": "slow"}
    with pytest.raises(ConfigError, match="needs 'kind' and 'name'"):
        core.create({"name": "vgg16"})


def test_result_carries_its_origin(fake):
    box = core.create("pool", "crate", size=2)
    assert box.pimm_origin == core.Origin("pool", "boxed", "fakepools", {"size": 2, "mode": "fast"})
    again = core.create(box.pimm_origin.as_config())
    assert again.kwargs == box.kwargs


def test_aliases_and_qualified_names(fake):
    assert core.get_spec("pool", "box").name == "boxed"
    assert core.get_spec("pool", "fakepools::crate").name == "boxed"
    assert core.get_spec("pool", "fakepools::resnet50").name == "resnet50"
    assert "box" not in core.list_names("pool")  # aliases are not listed as names


def test_unknown_name_suggests_close_names_and_is_a_key_error(fake):
    with pytest.raises(UnknownComponentError) as info:
        core.create("pool", "resnet5")
    assert isinstance(info.value, KeyError) and isinstance(info.value, PimmError)
    assert "Did you mean: resnet50" in str(info.value)
    assert not str(info.value).startswith('"')  # readable, not a repr'd KeyError
    with pytest.raises(KeyError, match="No plugin 'nope' provides pools"):
        core.get_spec("pool", "nope::resnet50")


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown component kind 'modle'.*did you mean 'model'"):
        core.list_names("modle")


@pytest.mark.parametrize("options, fragment", [
    ({"size": 0}, "option 'size': Input should be greater than or equal to 1 (got 0)"),
    ({"sise": 4}, "unknown option 'sise' (did you mean 'size'?)"),
    ({"mode": "medium"}, "option 'mode'"),
    ({"size": "big"}, "option 'size'"),
])
def test_option_errors_name_kind_component_plugin_and_field(fake, options, fragment):
    with pytest.raises(OptionsError) as info:
        core.create("pool", "resnet26", **options)
    message = str(info.value)
    assert "pool 'resnet26'" in message and "plugin 'fakepools'" in message
    assert fragment in message
    assert "Accepted options: size, mode" in message
    assert isinstance(info.value, ValueError)


def test_registry_follows_register_and_unregister():
    assert "boxed" not in core.list_names("pool")
    name = core.register_plugin(FakePools(), name="fakepools2")
    try:
        assert "boxed" in core.list_names("pool")
    finally:
        core.unregister_plugin(name)
    assert "boxed" not in core.list_names("pool")
    with pytest.raises(core.UnknownPluginError):
        core.unregister_plugin(name)


def test_registering_twice_under_one_name_is_an_error(fake):
    with pytest.raises(core.PluginLoadError, match="already registered"):
        core.register_plugin(FakePools(), name=fake)


def test_name_must_be_a_string(fake):
    with pytest.raises(ConfigError, match="must be a string"):
        core.create("pool", 3)
