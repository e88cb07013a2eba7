"""create_model, name parsing, pretrained tags, listing: the model factory contract."""

from __future__ import annotations

import warnings

import pytest
import torch
from model_helpers import tiny_env  # noqa: F401  (fixture)

from pimm import core
from pimm.core import PimmError
from pimm.core.errors import ConfigError, OptionsError, UnknownComponentError
from pimm.core.models import (
    create_model,
    get_pretrained_cfg,
    is_model,
    list_models,
    list_pretrained,
    parse_model_name,
    split_model_name_tag,
)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("resnet50", (None, "resnet50")),
        ("resnet50.a1_in1k", (None, "resnet50.a1_in1k")),
        ("hf-hub:timm/resnet50.a1_in1k", ("hf-hub", "timm/resnet50.a1_in1k")),
        ("hf_hub:timm/resnet50", ("hf-hub", "timm/resnet50")),
        ("HF-HUB:org/name@v1.2", ("hf-hub", "org/name@v1.2")),
        ("local-dir:/tmp/model", ("local-dir", "/tmp/model")),
        ("local-dir:C:\\models\\x", ("local-dir", "C:\\models\\x")),
        ("local-dir:relative/dir", ("local-dir", "relative/dir")),
        ("plugin::resnet50", (None, "plugin::resnet50")),
    ],
)
def test_parse_model_name(name, expected):
    assert parse_model_name(name) == expected


@pytest.mark.parametrize("name", ["timm/resnet50", "./some/dir", "C:\\models\\x", "not-a-source:x", "hf-hub:", "x:y"])
def test_parse_model_name_rejects(name):
    with pytest.raises(ConfigError) as info:
        parse_model_name(name)
    if "/" in name or "\\" in name:
        assert "hf-hub:" in str(info.value) and "local-dir:" in str(info.value)


@pytest.mark.parametrize("name", ["C:\\models\\resnet18", "C:/models/resnet18", "\\\\?\\C:\\models\\resnet18",
                                  "\\\\server\\share\\resnet18", "./models/resnet18", "org/resnet18"])
def test_path_like_model_names_point_at_local_dir_and_hf_hub(name):
    """A path is never taken for a 'source:' prefix: the error offers both forms, spelled out for it."""
    with pytest.raises(ConfigError) as info:
        parse_model_name(name)
    message = str(info.value)
    assert "looks like a file-system path" in message and f"'local-dir:{name}'" in message
    assert "hf-hub:" in message and "is not a model source" not in message


def test_split_tag():
    assert split_model_name_tag("resnet50d.ra2_in1k") == ("resnet50d", "ra2_in1k")
    assert split_model_name_tag("a.b.c") == ("a", "b.c")
    assert split_model_name_tag("resnet18") == ("resnet18", None)


def test_create_defaults_from_default_tag(tiny_env):
    model = create_model("tinytest")
    assert model.pretrained_cfg["tag"] == "a_in1k"  # first tag with weights
    assert model.pretrained_cfg["architecture"] == "tinytest"
    assert model.num_classes == 10  # injected from the cfg
    assert model.default_cfg is model.pretrained_cfg
    assert model.pimm_origin.name == "tinytest"
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_none_kwargs_are_dropped(tiny_env):
    model = create_model("tinytest", num_classes=None, in_chans=None, drop_rate=None)
    assert model.num_classes == 10 and model.in_chans == 3


def test_tag_selects_cfg(tiny_env):
    model = create_model("tinytest.b_in1k")
    assert model.pretrained_cfg["tag"] == "b_in1k"
    assert model.pretrained_cfg["url"].endswith("tinytest_b-4567.pth")
    same = create_model("tinytest", pretrained_cfg="b_in1k")
    assert same.pretrained_cfg == model.pretrained_cfg


def test_unknown_tag_is_clear(tiny_env):
    with pytest.raises(PimmError) as info:
        create_model("tinytest.nope")
    assert "nope" in str(info.value) and "a_in1k" in str(info.value)
    assert is_model("tinytest.nope")  # is_model ignores the tag


def test_unknown_model(tiny_env):
    with pytest.raises(UnknownComponentError):
        create_model("tinytesst")
    assert not is_model("tinytesst")


def test_options_are_validated(tiny_env):
    with pytest.raises(OptionsError) as info:
        create_model("tinytest", num_clases=3)
    assert "num_classes" in str(info.value)
    with pytest.raises(OptionsError):
        create_model("tinytest", global_pool="no_such_pool")


def test_pretrained_cfg_dict_and_overlay(tiny_env):
    model = create_model("tinytest", pretrained_cfg=dict(num_classes=7, input_size=(1, 32, 32)))
    assert model.num_classes == 7 and model.in_chans == 1
    model = create_model("tinytest", pretrained_cfg_overlay=dict(input_size=(4, 32, 32)))
    assert model.in_chans == 4 and model.pretrained_cfg["tag"] == "a_in1k"
    assert create_model("tinytest", in_chans=2, pretrained_cfg_overlay=dict(input_size=(4, 32, 32))).in_chans == 2
    with pytest.raises(ConfigError):
        create_model("tinytest", pretrained_cfg=dict(not_a_field=1))


def test_deprecated_name_warns_and_is_hidden(tiny_env):
    with pytest.warns(FutureWarning, match="tinytest.b_in1k"):
        model = create_model("old_tinytest")
    assert model.pretrained_cfg["tag"] == "b_in1k"
    assert "old_tinytest" not in list_models("*tinytest*")
    assert "old_tinytest" not in list_models("*", include_tags=True)


def test_list_models(tiny_env):
    assert list_models("tinytest*") == ["tinytest", "tinytest_fi", "tinytest_remap"]
    assert list_models("tinytest*", exclude_filters="*_fi") == ["tinytest", "tinytest_remap"]
    assert list_models(["tinytest_fi", "tinytest_remap"]) == ["tinytest_fi", "tinytest_remap"]
    assert list_models("tinytest*", pretrained=True) == ["tinytest.a_in1k", "tinytest.b_in1k"]
    assert list_models("tinytest", include_tags=True) == ["tinytest.a_in1k", "tinytest.b_in1k", "tinytest.untrained"]
    assert list_pretrained("tinytest") == ["tinytest.a_in1k", "tinytest.b_in1k"]
    assert list_pretrained("tinytest*", exclude_filters="*b_in1k") == ["tinytest.a_in1k"]
    assert list_models(module="tiny_test_models") == ["tinytest", "tinytest_fi", "tinytest_remap"]
    assert list_models("tinytest*", name_matches_cfg=True) == ["tinytest", "tinytest_fi"]


def test_list_models_by_module():
    """module= selects a family by plugin name, plugin module or model module; unknown is an error."""
    resnets, vggs = list_models(module="resnet"), list_models(module="vgg")
    assert "resnet18" in resnets and "vgg11" not in resnets and len(resnets) > 50
    assert vggs == ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]
    assert list_models(module="pimm.plugins.vgg") == vggs
    assert list_models("resnet1*", module="resnet")[:4] == ["resnet10t", "resnet14t", "resnet18", "resnet18d"]
    assert "resnet" in core.list_modules() and "vgg" in core.list_modules()
    with pytest.raises(ConfigError, match="did you mean 'resnet'"):
        list_models(module="resnets")


def test_get_pretrained_cfg_value():
    assert core.get_pretrained_cfg_value("resnet18", "crop_pct") == 0.95  # default tag a1_in1k
    assert core.get_pretrained_cfg_value("resnet18.tv_in1k", "crop_pct") == 0.875
    assert core.get_pretrained_cfg_value("vgg16", "classifier") == "head.fc"
    assert core.get_pretrained_cfg_value("vgg16", "test_input_size") is None  # a field without a value
    with pytest.raises(ConfigError, match="did you mean 'crop_pct'"):
        core.get_pretrained_cfg_value("resnet18", "crop_pt")


def test_list_models_natural_sort():
    names = list_models()
    assert names == sorted(names, key=lambda n: [int(p) if p.isdigit() else p for p in __import__("re").split(r"(\d+)", n.lower())])


def test_get_pretrained_cfg(tiny_env):
    cfg = get_pretrained_cfg("tinytest")
    assert cfg.tag == "a_in1k" and cfg.hf_hub_id == "fake-org/tinytest.a_in1k"
    assert get_pretrained_cfg("tinytest.untrained").has_weights is False
    with pytest.raises(UnknownComponentError):
        get_pretrained_cfg("tinytest.zzz")


def test_features_only_kwargs_not_passed_to_model(tiny_env):
    net = create_model("tinytest", features_only=True, out_indices=(1, 2))
    assert [o.shape[1] for o in net(torch.randn(1, 3, 32, 32))] == [16, 32]
    plain = create_model("tinytest", features_only=False, out_indices=(1,))
    assert plain(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_timm_compat_flags_accepted(tiny_env):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create_model("tinytest", scriptable=True, exportable=True, no_jit=True)


def test_sources_with_explicit_pretrained_cfg_rejected(tiny_env):
    with pytest.raises(ConfigError):
        create_model("local-dir:/nowhere", pretrained_cfg="a_in1k")


def test_builtin_resnet_tags_when_available():
    if not is_model("resnet50d"):
        pytest.skip("resnet plugin not available")
    cfg = get_pretrained_cfg("resnet50d")
    assert cfg.tag == "ra2_in1k" and cfg.first_conv == "conv1.0" and cfg.classifier == "fc"
    with pytest.raises(PimmError):
        get_pretrained_cfg("resnet50d.not_a_tag")
