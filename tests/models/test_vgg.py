"""VGG family: timm parity (keys, shapes, parameter counts, outputs), torchvision checkpoint remap,
feature levels and the model contract. Parity facts are literals read off timm 1.0.31."""

from __future__ import annotations

import pytest
import torch
from family_helpers import deterministic_fill, filled, fixed_input, keys_digest

from pimm import core
from pimm.core.errors import ConfigError, OptionsError
from pimm.core.models.feature_info import FeatureInfo
from pimm.plugins.vgg.remap import remap_torchvision_vgg

#: (parameter count, sha256[:16] of the ordered state_dict (key, shape) list), read off timm 1.0.31.
TIMM_FACTS: dict[str, tuple[int, str]] = {
    "vgg11": (132_863_336, "47c6d972017d7e12"),
    "vgg11_bn": (132_868_840, "f76bd51922f0e489"),
    "vgg13": (133_047_848, "2655052856b9f02f"),
    "vgg13_bn": (133_053_736, "0ea3317096b8b2ad"),
    "vgg16": (138_357_544, "2d2c3e191a965727"),
    "vgg16_bn": (138_365_992, "bbab6a2c1f56e74f"),
    "vgg19": (143_667_240, "33986f992122a9b7"),
    "vgg19_bn": (143_678_248, "ea807a7d073660cf"),
}

#: First five logits and sum |logits| of timm's model (num_classes=10) under ``deterministic_fill``.
TIMM_OUTPUTS = [
    pytest.param("vgg11", 32, [0.07223, 0.15383, 0.0026, -0.30648, -0.12499], 2.984, id="vgg11"),
    pytest.param("vgg11_bn", 64, [-0.11381, 0.13109, -0.1249, -0.35425, 0.00588], 3.013,
                 marks=pytest.mark.large, id="vgg11_bn"),
]


def _meta(name: str, **options):
    with torch.device("meta"):
        return core.create("model", name, **options)


@pytest.fixture(scope="module")
def vgg11():
    return filled("vgg11", num_classes=10)


@pytest.mark.parametrize("name", sorted(TIMM_FACTS))
def test_keys_shapes_and_param_count_match_timm(name):
    model = _meta(name)
    params, digest = TIMM_FACTS[name]
    assert sum(p.numel() for p in model.parameters()) == params
    assert keys_digest(model) == digest
    assert "large" in core.get_spec("model", name).tags


@pytest.mark.parametrize("name, size, first5, abs_sum", TIMM_OUTPUTS)
def test_outputs_match_timm_under_the_same_weights(name, size, first5, abs_sum):
    model = filled(name, num_classes=10)
    with torch.no_grad():
        out = model(fixed_input(2, 3, size, size))
    assert out[0, :5].tolist() == pytest.approx(first5, abs=2e-4)
    assert out.abs().sum().item() == pytest.approx(abs_sum, rel=1e-4, abs=2e-3)


def test_feature_info_levels():
    info = FeatureInfo(_meta("vgg16").feature_info)
    assert info.channels() == [64, 128, 256, 512, 512, 512]
    assert info.reduction() == [1, 2, 4, 8, 16, 32]
    assert info.module_name() == [f"features.{i}" for i in (3, 8, 15, 22, 29, 30)]
    assert FeatureInfo(_meta("vgg11").feature_info).module_name() == [f"features.{i}" for i in (1, 4, 9, 14, 19, 20)]
    assert FeatureInfo(_meta("vgg16_bn").feature_info).module_name() == [
        f"features.{i}" for i in (5, 12, 22, 32, 42, 43)
    ]


def test_head_and_sizes(vgg11):
    assert vgg11.num_features == 512 and vgg11.head_hidden_size == 4096
    assert vgg11.get_classifier() is vgg11.head.fc
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = vgg11.forward_features(x)
        assert feats.shape == (1, 512, 2, 2)
        assert vgg11.forward_head(feats, pre_logits=True).shape == (1, 4096)
        assert vgg11(x).shape == (1, 10)
        final, levels = vgg11.forward_intermediates(x)
        assert [f.shape[-1] for f in levels] == [64, 32, 16, 8, 4, 2]
        assert torch.equal(final, feats)
        early = vgg11.forward_intermediates(x, indices=[1], stop_early=True, intermediates_only=True)
        assert [f.shape[1] for f in early] == [128]


def test_reset_classifier_and_unpooled(vgg11):
    vgg11.reset_classifier(0)
    assert vgg11.head_hidden_size == 4096 and vgg11.num_classes == 0
    vgg11.reset_classifier(0, "")
    with torch.no_grad():
        assert vgg11(torch.randn(1, 3, 224, 224)).shape == (1, 4096, 1, 1)
    vgg11.reset_classifier(0, "catavgmax")
    assert vgg11.head_hidden_size == 8192 and not vgg11.head.training
    vgg11.reset_classifier(10, "avg")


def test_torchvision_checkpoint_loads_through_the_remap(vgg11):
    torchvision = pytest.importorskip("torchvision")
    with torch.device("meta"):
        reference = torchvision.models.vgg11(num_classes=10)
    reference = reference.to_empty(device="cpu")
    source = deterministic_fill(reference).eval()
    vgg11.load_state_dict(remap_torchvision_vgg(source.state_dict()), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(vgg11(x), source(x), atol=1e-5)
    already = remap_torchvision_vgg(vgg11.state_dict())
    assert already.keys() == vgg11.state_dict().keys()


def test_vgg_limits_are_clear_errors(vgg11):
    with pytest.raises(ConfigError, match="checkpointing"):
        vgg11.set_grad_checkpointing(True)
    vgg11.set_grad_checkpointing(False)
    with pytest.raises(OptionsError, match="output_stride"):
        core.create("model", "vgg11", output_stride=16)
    with pytest.raises(OptionsError, match="drop_path_rate"):
        core.create("model", "vgg11", drop_path_rate=0.1)


def test_pretrained_cfg_and_remap_declared():
    spec = core.get_spec("model", "vgg16")
    cfg = spec.pretrained_cfgs["tv_in1k"]
    assert spec.default_tag == "tv_in1k" and cfg.hf_hub_id == "timm/vgg16.tv_in1k" and cfg.url == ""
    assert (cfg.interpolation, cfg.crop_pct, cfg.pool_size) == ("bilinear", 0.875, (7, 7))
    assert (cfg.first_conv, cfg.classifier, cfg.license) == ("features.0", "head.fc", "bsd-3-clause")
    import pimm.plugins.vgg as plugin

    assert core.get_spec("model", "vgg16").arch_args["batch_norm"] is False
    assert plugin.TORCHVISION_REMAP.endswith(":remap_torchvision_vgg")


def test_prune_intermediate_layers():
    model = filled("vgg11")
    assert model.prune_intermediate_layers([2]) == [2]
    assert model.num_features == 256 and model.num_classes == 0
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 256, 8, 8)


def test_torchvision_checkpoint_loads_through_checkpoint_path(tmp_path):
    """A torchvision-layout VGG checkpoint loads strictly via create_model(checkpoint_path=...)."""
    import torch

    from pimm import core
    from pimm.plugins.vgg.remap import remap_torchvision_vgg

    model = core.create_model("vgg11", num_classes=10).eval()
    ours = model.state_dict()
    # build the torchvision layout from ours (the inverse of the remap), then load it back
    tv = {}
    for key, value in ours.items():
        if key.startswith("pre_logits.fc1."):
            tv["classifier.0." + key.rsplit(".", 1)[1]] = value.flatten(1) if value.dim() == 4 else value
        elif key.startswith("pre_logits.fc2."):
            tv["classifier.3." + key.rsplit(".", 1)[1]] = value.flatten(1) if value.dim() == 4 else value
        elif key.startswith("head.fc."):
            tv["classifier.6." + key.rsplit(".", 1)[1]] = value
        else:
            tv[key] = value
    assert set(remap_torchvision_vgg(dict(tv))) == set(ours)
    path = tmp_path / "vgg11_tv.pth"
    torch.save(tv, path)
    again = core.create_model("vgg11", num_classes=10, checkpoint_path=str(path)).eval()
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(model(x), again(x))
