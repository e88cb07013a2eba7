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


# -- one resolution per create, name precedence, the kernel's public face ---------------------------


def build_shadow(*args, **kwargs):
    raise AssertionError("a third-party component shadowing a core default name was built")


class ShadowDefaults:
    """A third party registering the bare names core uses as its own defaults."""

    @core.hookimpl
    def pimm_pools(self):
        return [PoolSpec(name="avg", target="test_registry_and_create:build_shadow", options=WidgetOptions)]

    @core.hookimpl
    def pimm_readers(self):
        from pimm.core.specs import ReaderSpec

        return [ReaderSpec(name="folder", target="test_registry_and_create:build_shadow")]

    @core.hookimpl
    def pimm_augment_ops(self):
        from pimm.core.specs import AugmentSpec

        return [AugmentSpec(name=n, role="transform", target="test_registry_and_create:build_shadow")
                for n in ("normalize", "to_tensor", "randaugment")]


@pytest.fixture
def shadow():
    name = core.register_plugin(ShadowDefaults(), name="shadow")
    yield name
    core.unregister_plugin(name)


def test_core_default_names_resolve_to_the_builtin_provider(shadow, tmp_path):
    from PIL import Image

    model = core.create_model("resnet10t", num_classes=3)  # global_pool='avg' by default
    assert model.global_pool.pimm_origin.plugin == "pools"
    transform = core.create_transform(32, is_training=True, auto_augment="rand-m9")
    assert {t.pimm_origin.plugin for t in transform.transforms if hasattr(t, "pimm_origin")} <= {"augment"}
    (tmp_path / "a").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "a" / "x.png")
    dataset = core.create_dataset("", root=str(tmp_path))
    assert dataset.reader.pimm_origin.plugin == "readers"


def test_a_users_own_bare_name_is_never_silently_picked(shadow):
    from pimm.core.errors import AmbiguousComponentError

    with pytest.raises(AmbiguousComponentError, match="'avg' is provided by 2 plugins"):
        core.create("pool", "avg")
    with pytest.raises(AssertionError, match="shadowing"):
        core.create("pool", "shadow::avg")  # the third party's component stays reachable


def test_prefer_builtin_never_picks_between_two_third_parties():
    from pimm.core.errors import AmbiguousComponentError
    from pimm.core.factory import resolve

    first = core.register_plugin(FakePools(), name="fake_one")
    second = core.register_plugin(FakePools(), name="fake_two")
    try:
        with pytest.raises(AmbiguousComponentError):
            resolve("pool", "vgg16", prefer_builtin=True)
    finally:
        core.unregister_plugin(first)
        core.unregister_plugin(second)


@pytest.fixture
def lookups(monkeypatch):
    from pimm.core.registry import Registry

    calls = []
    original = Registry.lookup

    def counting(self, kind, name, **kwargs):
        calls.append((kind, name))
        return original(self, kind, name, **kwargs)

    core.list_names("model")  # registry built before counting
    monkeypatch.setattr(Registry, "lookup", counting)
    return calls


def test_lookups_per_create_model(lookups):
    # 7 before create_entry: the model twice, the pool five times. Now: the model once, the pool for
    # the options check, for the plugin's own head sizing and once for building it.
    core.create_model("resnet50d", global_pool="catavgmax")
    assert lookups.count(("model", "resnet50d")) == 1
    assert len(lookups) == 4, lookups


def test_lookups_per_rand_augment_train_transform(lookups):
    # 35 before: every RandAugment op was resolved twice. Now: one per step and per op (19).
    core.create_transform(224, is_training=True, auto_augment="rand-m9")
    assert max(lookups.count(call) for call in lookups) == 1, lookups
    assert len(lookups) == 19, lookups


def test_create_entry_builds_without_resolving_again(fake, lookups):
    from pimm.core.factory import create_entry, resolve

    entry = resolve("pool", "boxed")
    obj = create_entry(entry, size=4)
    assert isinstance(obj, Box) and obj.kwargs == {"size": 4, "mode": "fast"}
    assert lookups == [("pool", "boxed")]
    with pytest.raises(ConfigError, match="create_entry\\(\\) takes a registry entry"):
        create_entry("boxed")


def test_core_create_model_and_create_model_return_the_same_kind_of_object():
    by_kernel = core.create("model", "resnet10t", num_classes=4)
    by_helper = core.create_model("resnet10t", num_classes=4)
    assert type(by_kernel) is type(by_helper)
    assert by_kernel.pretrained_cfg == by_helper.pretrained_cfg and by_kernel.pretrained_cfg
    assert by_kernel.default_cfg == by_helper.default_cfg
    features = core.create({"kind": "model", "name": "resnet10t", "features_only": True, "out_indices": (1,)})
    assert len(features(__import__("torch").zeros(1, 3, 32, 32))) == 1


def test_create_optimizer_finds_names_registered_with_capital_letters():
    import torch

    from pimm.core.specs import OptimizerSpec

    class CapitalOptim:
        @core.hookimpl
        def pimm_optimizers(self):
            return [OptimizerSpec(name="MySGD", target="torch.optim:SGD", options=SGDLikeOptions)]

    name = core.register_plugin(CapitalOptim(), name="capital")
    try:
        param = torch.nn.Parameter(torch.zeros(2))
        assert isinstance(core.create_optimizer([param], "MySGD", lr=0.1), torch.optim.SGD)
        assert isinstance(core.create_optimizer([param], "lookahead_MySGD", lr=0.1).base_optimizer,
                          torch.optim.SGD)
        assert isinstance(core.create_optimizer([param], "AdamW", lr=0.1), torch.optim.Optimizer)  # timm's habit
    finally:
        core.unregister_plugin(name)


class SGDLikeOptions(Options):
    lr: float = Field(0.01, gt=0, description="learning rate")
    momentum: float = Field(0.0, ge=0, description="momentum")
    weight_decay: float = Field(0.0, ge=0, description="weight decay")


def test_star_import_of_the_kernel_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom pimm.core import *\n"
            "print(','.join(m for m in ('torch', 'torchvision', 'PIL') if m in sys.modules))\n"
            "print(create, create_entry, resolve, PoolSpec, ConfigError)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "", f"`from pimm.core import *` imported {result.stdout.splitlines()[0]}"
