"""ResNet family: timm parity (names, keys, shapes, parameter counts, outputs), the model contract,
options, pretrained configs, and the shared layers (FeatureInfo, DropPath, DropBlock, BlurPool).

Parity facts are literals read off timm 1.0.31 (timm is not needed to run these tests).
"""

from __future__ import annotations

import pytest
import torch
from family_helpers import filled, fixed_input, keys_digest

from pimm import core
from pimm.core.errors import ConfigError, OptionsError
from pimm.core.models.feature_info import FeatureInfo
from pimm.core.models.layers import BlurPool2d, DropBlock2d, DropPath, make_divisible

#: (parameter count, sha256[:16] of the ordered state_dict (key, shape) list), read off timm 1.0.31.
TIMM_FACTS: dict[str, tuple[int, str]] = {
    "ecaresnet101d": (44_568_563, "bdc1a4eb70334f11"),
    "ecaresnet101d_pruned": (24_876_040, "78656bcee2f0ee2e"),
    "ecaresnet200d": (64_693_400, "5ef73cca3edfbd2f"),
    "ecaresnet269d": (102_093_077, "4a40194a3371d2c5"),
    "ecaresnet26t": (16_011_916, "aa344e27efa37e66"),
    "ecaresnet50d": (25_576_350, "daaffe2713ace825"),
    "ecaresnet50d_pruned": (19_939_713, "9ad11fc113f4e3e9"),
    "ecaresnet50t": (25_573_814, "c9770d69ebd2b672"),
    "ecaresnetlight": (30_162_046, "e6937c315a1b26e2"),
    "ecaresnext26t_32x4d": (15_406_220, "be55b172d4c39b74"),
    "ecaresnext50t_32x4d": (25_045_686, "f994a9c0f7d0b49c"),
    "resnet101": (44_549_160, "55fe4f809238a5be"),
    "resnet101c": (44_568_392, "a18a31ab2a342d2a"),
    "resnet101d": (44_568_392, "834b5977ece0802c"),
    "resnet101s": (44_672_936, "2144c57e2015388c"),
    "resnet10t": (5_435_488, "ca970c3e9929e789"),
    "resnet14t": (10_081_632, "4bcf8f4463423dd8"),
    "resnet152": (60_192_808, "927ec59d6780e2f8"),
    "resnet152c": (60_212_040, "4da5a606c0881ad5"),
    "resnet152d": (60_212_040, "aee9fc97ce749f99"),
    "resnet152s": (60_316_584, "74a63933c3daa74c"),
    "resnet18": (11_689_512, "ce88913d6e5bbfc8"),
    "resnet18d": (11_708_744, "4dff0ab30edbf515"),
    "resnet200": (64_673_832, "fb962d23865e8e00"),
    "resnet200d": (64_693_064, "a8b7218423fd1351"),
    "resnet26": (15_995_176, "3c89909ac87a6b97"),
    "resnet26d": (16_014_408, "a455e43f94cfd205"),
    "resnet26t": (16_011_872, "7b65a622c21211ef"),
    "resnet34": (21_797_672, "ea3c41f6d89ab8bc"),
    "resnet34d": (21_816_904, "373f6de56c7e1ace"),
    "resnet50": (25_557_032, "218340f9d3037dea"),
    "resnet50_gn": (25_557_032, "a75ae35e0a66fd0a"),
    "resnet50c": (25_576_264, "b3607f25680986ba"),
    "resnet50d": (25_576_264, "740ac89e38448c5f"),
    "resnet50s": (25_680_808, "90c0e7e78d67c139"),
    "resnet50t": (25_573_728, "6846bd48cf40f3ed"),
    "resnetaa101d": (44_568_392, "834b5977ece0802c"),
    "resnetaa34d": (21_816_904, "373f6de56c7e1ace"),
    "resnetaa50": (25_557_032, "218340f9d3037dea"),
    "resnetaa50d": (25_576_264, "740ac89e38448c5f"),
    "resnetblur101d": (44_568_392, "834b5977ece0802c"),
    "resnetblur18": (11_689_512, "ce88913d6e5bbfc8"),
    "resnetblur50": (25_557_032, "218340f9d3037dea"),
    "resnetblur50d": (25_576_264, "740ac89e38448c5f"),
    "resnetrs101": (63_618_696, "d696eef59fd02c13"),
    "resnetrs152": (86_621_576, "0632e9463a3b9f54"),
    "resnetrs200": (93_209_992, "ee6ab05f5725e06f"),
    "resnetrs270": (129_861_448, "63c7cd9d1998edd8"),
    "resnetrs350": (163_956_168, "b704e700c58335d0"),
    "resnetrs420": (191_891_656, "d4170a78289780ed"),
    "resnetrs50": (35_691_912, "271d5c60e692e86d"),
    "resnext101_32x16d": (194_026_792, "3e99488661bb9183"),
    "resnext101_32x32d": (468_530_472, "fb44803fc2008794"),
    "resnext101_32x4d": (44_177_704, "66c08cd35075c67a"),
    "resnext101_32x8d": (88_791_336, "c65f6f3f049754c5"),
    "resnext101_64x4d": (83_455_272, "c1295d96b5f8ce39"),
    "resnext50_32x4d": (25_028_904, "513ad3b3dc34e094"),
    "resnext50d_32x4d": (25_048_136, "835ece9938a26e2c"),
    "senet154": (115_088_984, "d80884fc9737d96e"),
    "seresnet101": (49_326_872, "df4b5fe3617c84db"),
    "seresnet152": (66_821_848, "84b4e827399014e8"),
    "seresnet152d": (66_841_080, "06d0b2de33215fd7"),
    "seresnet18": (11_779_624, "78bdcf9ec9a73501"),
    "seresnet200d": (71_855_096, "d60e46a3331e8322"),
    "seresnet269d": (113_672_760, "88c237db59158eb4"),
    "seresnet34": (21_960_416, "65d49b22644406b2"),
    "seresnet50": (28_088_024, "6bde90865fff413c"),
    "seresnet50t": (28_104_720, "9122e5e50312bf8b"),
    "seresnetaa50d": (28_107_256, "17a4dbe4235e750d"),
    "seresnext101_32x4d": (48_955_416, "e1b6918578200b49"),
    "seresnext101_32x8d": (93_569_048, "cdbddaa7ddfbd9ad"),
    "seresnext101_64x4d": (88_232_984, "9b692a90bb83df05"),
    "seresnext101d_32x8d": (93_588_280, "90eea8d24fa28229"),
    "seresnext26d_32x4d": (16_809_512, "b120ceb9689e1c2a"),
    "seresnext26t_32x4d": (16_806_976, "9cb6b9cf33847d55"),
    "seresnext50_32x4d": (27_559_896, "6619c8b33e3c001a"),
    "seresnextaa101d_32x8d": (93_588_280, "90eea8d24fa28229"),
    "seresnextaa201d_32x8d": (149_394_904, "3aca189e95bf774e"),
    "test_resnet": (469_688, "5f6aef6695cc2f0e"),
    "wide_resnet101_2": (126_886_696, "d13ff0f2019e0ac7"),
    "wide_resnet50_2": (68_883_240, "84248ef7e0bb7095"),
}

#: First five logits and sum |logits| of timm's model (num_classes=10) under ``deterministic_fill``
#: for ``fixed_input(2, 3, size, size)``.
TIMM_OUTPUTS = [
    pytest.param("test_resnet", 64, {}, [0.63697, -0.47041, -0.46952, 0.01573, -0.86036], 9.126, id="test_resnet"),
    pytest.param("resnet18", 64, {}, [0.81426, -0.2971, 1.90796, 0.89215, 0.64984], 13.983, id="resnet18"),
    pytest.param("resnet50d", 64, {}, [-0.23489, -0.56395, -0.38786, -0.37014, 0.15445], 7.469, id="resnet50d"),
    pytest.param("seresnext26t_32x4d", 64, {},
                 [0.05512, 0.05234, 0.0373, 0.0714, 0.15942], 2.561, id="seresnext26t_32x4d"),
    pytest.param("resnetrs50", 64, {}, [-0.14321, -0.12239, -0.18644, 0.0162, 0.27251], 3.339, id="resnetrs50"),
    pytest.param("ecaresnet26t", 64, {}, [0.02345, -0.01777, -0.1703, 0.17251, 0.26898], 3.065, id="ecaresnet26t"),
    pytest.param("resnetblur18", 64, {}, [0.72606, -0.40499, 1.68878, 0.79452, 0.4991], 13.351, id="resnetblur18"),
    pytest.param("resnetaa34d", 64, {}, [0.35635, -0.03253, 0.76156, -0.42678, 0.62704], 10.215, id="resnetaa34d"),
    pytest.param("resnet50_gn", 64, {}, [0.57971, -1.1108, -0.39405, -0.14672, -0.74656], 19.128, id="resnet50_gn"),
    pytest.param("ecaresnet50d_pruned", 64, {},
                 [0.26597, 0.30305, 0.5199, -0.11814, 0.01845], 4.11, id="ecaresnet50d_pruned"),
    pytest.param("resnet18", 64, {"output_stride": 8},
                 [0.80427, -0.56735, 1.97341, 0.5342, 0.56416], 16.378, id="resnet18-os8"),
    pytest.param("resnet50d", 64, {"output_stride": 16, "global_pool": "catavgmax"},
     [-0.61598, -0.7323, 0.19358, 0.12295, 0.86173], 8.351, id="resnet50d-os16"),
    pytest.param("senet154", 64, {}, [0.03113, -0.22635, 0.32644, -0.15042, 0.55273], 5.797,
                 marks=pytest.mark.large, id="senet154"),
]


def _meta(name: str, **options):
    with torch.device("meta"):
        return core.create("model", name, **options)


@pytest.fixture(scope="module")
def tiny():
    """The tiny mixed-block test_resnet (eval mode)."""
    return core.create("model", "test_resnet").eval()


# -- names and timm parity -----------------------------------------------------------------------


def test_every_timm_resnet_name_is_registered():
    names = core.list_names("model", exclude=["vgg*"])
    assert set(TIMM_FACTS) <= set(names)
    assert len(TIMM_FACTS) == 81


@pytest.mark.parametrize("name", sorted(TIMM_FACTS))
def test_keys_shapes_and_param_count_match_timm(name):
    model = _meta(name)
    params, digest = TIMM_FACTS[name]
    assert sum(p.numel() for p in model.parameters()) == params
    assert keys_digest(model) == digest


def test_large_tag_marks_models_over_100m_params():
    large = {n for n in TIMM_FACTS if "large" in core.get_spec("model", n).tags}
    assert large == {n for n, (params, _) in TIMM_FACTS.items() if params > 100_000_000}
    assert len(large) == 10


@pytest.mark.parametrize("name, size, options, first5, abs_sum", TIMM_OUTPUTS)
def test_outputs_match_timm_under_the_same_weights(name, size, options, first5, abs_sum):
    model = filled(name, num_classes=10, **options)
    with torch.no_grad():
        out = model(fixed_input(2, 3, size, size))
    assert out[0, :5].tolist() == pytest.approx(first5, abs=2e-4)
    assert out.abs().sum().item() == pytest.approx(abs_sum, rel=1e-4, abs=2e-3)


# -- the model contract ----------------------------------------------------------------------------


def test_resnet50d_feature_info_and_shapes():
    model = _meta("resnet50d")
    info = FeatureInfo(model.feature_info)
    assert info.reduction() == [2, 4, 8, 16, 32]
    assert info.channels() == [64, 256, 512, 1024, 2048]
    assert info.module_name() == ["act1", "layer1", "layer2", "layer3", "layer4"]
    assert model.num_features == model.head_hidden_size == 2048
    assert _meta("resnet18").feature_info[1]["num_chs"] == 64


def test_keys_layout_of_deep_stem_and_avg_down():
    keys = _meta("resnet50d").state_dict().keys()
    for key in ("conv1.0.weight", "conv1.1.running_var", "conv1.3.weight", "conv1.4.weight", "conv1.6.weight",
                "bn1.weight", "layer1.0.downsample.1.weight", "layer1.0.downsample.2.running_mean", "fc.bias"):
        assert key in keys
    assert "layer1.0.downsample.0.weight" in _meta("resnet50").state_dict()
    assert "layer1.0.se.fc1.weight" in _meta("seresnet50").state_dict()
    assert tuple(_meta("ecaresnet50d").state_dict()["layer4.0.se.conv.weight"].shape) == (1, 1, 7)


@pytest.mark.parametrize("output_stride, reductions", [(8, [2, 4, 8, 8, 8]), (16, [2, 4, 8, 16, 16])])
def test_output_stride_dilates(output_stride, reductions):
    model = core.create("model", "test_resnet", output_stride=output_stride).eval()
    assert [f["reduction"] for f in model.feature_info] == reductions
    with torch.no_grad():
        feats = model.forward_features(torch.randn(1, 3, 64, 64))
    assert feats.shape[-1] == 64 // output_stride


def test_head_variants(tiny):
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        feats = tiny.forward_features(x)
        assert feats.shape == (2, 96, 1, 1)
        assert tiny.forward_head(feats, pre_logits=True).shape == (2, 96)
        assert tiny(x).shape == (2, 1000)
    headless = core.create("model", "test_resnet", num_classes=0).eval()
    assert headless(x).shape == (2, 96)
    unpooled = core.create("model", "test_resnet", num_classes=0, global_pool="").eval()
    assert unpooled(torch.randn(2, 3, 64, 64)).shape == (2, 96, 2, 2)
    cat = core.create("model", "test_resnet", global_pool="catavgmax", num_classes=5)
    assert cat.head_hidden_size == 192 and cat.fc.in_features == 192
    assert cat.get_classifier() is cat.fc and cat.get_classifier(name_only=True) == "fc"


def test_reset_classifier_keeps_device_dtype_and_mode():
    model = core.create("model", "test_resnet").to(torch.float64).eval()
    model.reset_classifier(7)
    assert model.fc.weight.dtype == torch.float64 and not model.fc.training
    assert model.global_pool.pool_type == "avg" and model.num_classes == 7
    model.train()
    model.reset_classifier(0, "catavgmax")
    assert model.head_hidden_size == 192 and model.fc.training and model.global_pool.training
    assert model(torch.randn(2, 3, 32, 32, dtype=torch.float64)).shape == (2, 192)
    model.reset_classifier(3)  # keeps catavgmax
    assert model.fc.in_features == 192


def test_forward_intermediates(tiny):
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        final, feats = tiny.forward_intermediates(x)
        assert [f.shape[1] for f in feats] == [32, 32, 48, 192, 96]
        assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]
        assert torch.equal(final, tiny.forward_features(x))
        only = tiny.forward_intermediates(x, indices=[-1, 1], intermediates_only=True)
        assert [f.shape[1] for f in only] == [32, 96]
        early = tiny.forward_intermediates(x, indices=2, stop_early=True, intermediates_only=True)
        assert [f.shape[1] for f in early] == [192, 96]
    with pytest.raises(ConfigError):
        tiny.forward_intermediates(x, indices=[5])


def test_prune_intermediate_layers():
    model = core.create("model", "test_resnet").eval()
    assert model.prune_intermediate_layers([1, 2]) == [1, 2]
    assert model.num_classes == 0 and model.num_features == 48
    with torch.no_grad():
        assert model.forward_features(torch.randn(1, 3, 64, 64)).shape == (1, 48, 8, 8)


def test_grad_checkpointing_matches_and_backprops():
    model = core.create("model", "test_resnet", num_classes=4).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ref = model(x)
    model.set_grad_checkpointing(True)
    out = model(x)
    assert torch.allclose(out, ref, atol=1e-6)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_group_matcher_and_no_weight_decay(tiny):
    assert tiny.group_matcher() == {"stem": r"^conv1|bn1|maxpool", "blocks": r"^layer(\d+)\.(\d+)"}
    assert tiny.group_matcher(coarse=True)["blocks"] == r"^layer(\d+)"
    assert tiny.no_weight_decay() == set()
    assert tiny.in_chans == 3 and tiny.drop_rate == 0.0
    assert tiny.pretrained_cfg == core.create_model(tiny.pimm_origin.name).pretrained_cfg  # create == create_model


def test_regularisation_options():
    model = _meta("resnet18", drop_path_rate=0.3, drop_block_rate=0.1)
    rates = [blk.drop_path.drop_prob if blk.drop_path is not None else 0.0
             for stage in (model.layer1, model.layer2, model.layer3, model.layer4) for blk in stage]
    assert rates == pytest.approx([0.3 * i / 7 for i in range(8)])
    assert isinstance(model.layer3[0].drop_block, DropBlock2d) and model.layer3[0].drop_block.block_size == 5
    assert isinstance(model.layer4[1].drop_block, DropBlock2d) and model.layer4[1].drop_block.block_size == 3
    assert not isinstance(model.layer2[0].drop_block, DropBlock2d)
    trained = core.create("model", "test_resnet", drop_rate=0.2, drop_path_rate=0.1, drop_block_rate=0.1).train()
    trained(torch.randn(2, 3, 32, 32)).sum().backward()


def test_zero_init_last():
    model = core.create("model", "test_resnet")
    assert model.layer3[0].bn3.weight.abs().sum() == 0
    assert model.layer1[0].bn2.weight.abs().sum() == 0
    kept = core.create("model", "test_resnet", zero_init_last=False)
    assert kept.layer1[0].bn2.weight.abs().sum() > 0


@pytest.mark.parametrize("in_chans", [1, 4])
def test_in_chans(in_chans):
    model = core.create("model", "test_resnet", in_chans=in_chans, num_classes=3).eval()
    assert model.conv1[0].in_channels == in_chans
    assert model(torch.randn(1, in_chans, 32, 32)).shape == (1, 3)


# -- options and errors --------------------------------------------------------------------------


@pytest.mark.parametrize("options, fragment", [
    ({"output_stride": 12}, "output_stride"),
    ({"global_pool": "avgg"}, "avg"),
    ({"num_classes": -1}, "num_classes"),
    ({"drop_rate": 1.5}, "drop_rate"),
    ({"stem_type": "deep"}, "unknown option"),
])
def test_bad_options_raise_clear_errors(options, fragment):
    with pytest.raises(OptionsError, match=fragment):
        core.create("model", "resnet18", **options)


def test_direct_construction_validates_arguments():
    from pimm.plugins.resnet.model import ResNet

    with pytest.raises(ConfigError, match="block"):
        ResNet(block="triple")
    with pytest.raises(ConfigError, match="cardinality"):
        ResNet(block="basic", cardinality=32, base_width=4)
    with pytest.raises(ConfigError, match="stem_type"):
        ResNet(stem_type="wide")
    with pytest.raises(ConfigError, match="output_stride"):
        ResNet(output_stride=4)


# -- specs: pretrained configs and deprecations ------------------------------------------------------


def test_pretrained_cfgs_read_off_timm():
    spec = core.get_spec("model", "resnet50d")
    assert spec.default_tag == "ra2_in1k" and len(spec.pretrained_cfgs) == 6
    cfg = spec.pretrained_cfgs["ra2_in1k"]
    assert cfg.url.endswith("v0.1-weights/resnet50d_ra2-464e36ba.pth")
    assert cfg.hf_hub_id == "timm/resnet50d.ra2_in1k" and cfg.architecture == "resnet50d"
    assert (cfg.input_size, cfg.test_input_size, cfg.interpolation) == ((3, 224, 224), (3, 288, 288), "bicubic")
    assert (cfg.crop_pct, cfg.test_crop_pct, cfg.crop_mode) == (0.875, 0.95, "center")
    assert (cfg.pool_size, cfg.first_conv, cfg.classifier, cfg.license) == ((7, 7), "conv1.0", "fc", "apache-2.0")
    r18 = core.get_spec("model", "resnet18")
    assert r18.default_tag == "a1_in1k" and len(r18.pretrained_cfgs) == 7
    a1 = r18.pretrained_cfgs["a1_in1k"]
    assert (a1.crop_pct, a1.test_crop_pct, a1.paper_ids) == (0.95, 1.0, "arXiv:2110.00476")
    assert len(core.get_spec("model", "resnet50").pretrained_cfgs) == 19
    assert core.get_spec("model", "resnet50").default_tag == "a1_in1k"


def test_every_arch_has_configs_and_untrained_tags():
    total = 0
    for name in TIMM_FACTS:
        spec = core.get_spec("model", name)
        assert spec.pretrained_cfgs, name
        total += len(spec.pretrained_cfgs)
        for tag, cfg in spec.pretrained_cfgs.items():
            assert cfg.tag == tag and cfg.architecture == name
            assert cfg.classifier == "fc" and cfg.first_conv in ("conv1", "conv1.0")
            if cfg.hf_hub_id:
                assert cfg.hf_hub_id == f"timm/{name}.{tag}"
    assert total == 169
    seresnet18 = core.get_spec("model", "seresnet18")
    assert list(seresnet18.pretrained_cfgs) == ["untrained"] and not seresnet18.pretrained_cfgs["untrained"].has_weights


def test_deprecated_names_declared_on_their_targets():
    assert core.get_spec("model", "resnet50").deprecated_names["tv_resnet50"] == "resnet50.tv_in1k"
    assert core.get_spec("model", "resnet50d").deprecated_names["gluon_resnet50_v1d"] == "resnet50d.gluon_in1k"
    assert core.get_spec("model", "seresnext26t_32x4d").deprecated_names == {
        "seresnext26tn_32x4d": "seresnext26t_32x4d"
    }
    everything = {}
    for name in TIMM_FACTS:
        everything.update(core.get_spec("model", name).deprecated_names)
    assert len(everything) == 43
    assert not set(everything) & set(core.list_names("model"))


def test_specs_are_torch_free_data():
    spec = core.get_spec("model", "resnet50d")
    dumped = spec.model_dump(mode="json")
    assert dumped["arch_args"]["stem_type"] == "deep" and dumped["arch_args"]["avg_down"] is True
    assert {"classifier", "features", "grad_checkpointing", "resnet"} <= spec.tags


# -- shared layers ---------------------------------------------------------------------------------


def test_feature_info_api():
    levels = [{"num_chs": 64, "reduction": 2, "module": "act1"}, {"num_chs": 256, "reduction": 4, "module": "layer1"},
              {"num_chs": 512, "reduction": 8, "module": "layer2"}]
    info = FeatureInfo(levels, out_indices=(0, -1))
    assert info.out_indices == (0, 2)
    assert info.channels() == [64, 512] and info.reduction() == [2, 8]
    assert info.module_name() == ["act1", "layer2"] and info.channels(1) == 256
    assert info.get("num_chs", [0, 1]) == [64, 256]
    assert info.get_dicts(keys=["num_chs"]) == [{"num_chs": 64}, {"num_chs": 512}]
    assert info[1]["index"] == 1 and len(info) == 3
    assert FeatureInfo(levels, out_indices=2).out_indices == (1, 2)
    assert info.from_other(None).channels() == [64, 256, 512]


@pytest.mark.parametrize("levels, out_indices, fragment", [
    ([], None, "empty"),
    ([{"num_chs": 0, "reduction": 2, "module": "a"}], None, "num_chs"),
    ([{"num_chs": 4, "reduction": 4, "module": "a"}, {"num_chs": 4, "reduction": 2, "module": "b"}], None, "reduction"),
    ([{"num_chs": 4, "module": "a"}], None, "lacks"),
    ([{"num_chs": 4, "reduction": 2, "module": "a"}], (1,), "out of range"),
    ([{"num_chs": 4, "reduction": 2, "module": "a"}], (0, -1), "more than once"),
])
def test_feature_info_validation(levels, out_indices, fragment):
    with pytest.raises(ConfigError, match=fragment):
        FeatureInfo(levels, out_indices)


def test_drop_path_and_drop_block():
    x = torch.ones(2000, 4, 1, 1)
    drop = DropPath(0.25).train()
    out = drop(x)
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.75))
    assert abs((out[:, 0, 0, 0] == 0).float().mean().item() - 0.25) < 0.05
    assert torch.equal(DropPath(0.25).eval()(x), x)
    block = DropBlock2d(0.1, block_size=3).train()
    y = torch.ones(8, 4, 32, 32)
    dropped = (block(y) == 0).float().mean().item()
    assert abs(dropped - 0.1) < 0.03
    assert torch.equal(DropBlock2d(0.1).eval()(y), y)


def test_blur_pool_and_make_divisible():
    blur = BlurPool2d(3, stride=2)
    assert blur(torch.randn(1, 3, 16, 16)).shape == (1, 3, 8, 8)
    assert blur(torch.randn(1, 3, 15, 15)).shape == (1, 3, 8, 8)
    const = torch.full((1, 3, 8, 8), 2.0)
    assert torch.allclose(blur(const), torch.full((1, 3, 4, 4), 2.0))
    assert "filt" not in blur.state_dict()
    assert [make_divisible(c / 16, 8, round_limit=0.0) for c in (64, 256, 512)] == [8, 16, 32]
