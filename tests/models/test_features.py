"""features_only wrappers: levels, out_indices, keys, both execution paths."""

from __future__ import annotations

import pytest
import torch
from model_helpers import TinyNet, tiny_env  # noqa: F401

from pimm.core.errors import ConfigError
from pimm.core.models import FeatureDictNet, FeatureListNet, create_model, is_model
from pimm.core.models.features import create_features, resolve_out_indices

X = torch.randn(2, 3, 32, 32)


def test_list_output_matches_feature_info(tiny_env):
    net = create_model("tinytest", features_only=True)
    assert isinstance(net, FeatureListNet)
    outs = net(X)
    assert net.feature_info.channels() == [8, 16, 32] == [o.shape[1] for o in outs]
    assert net.feature_info.reduction() == [2, 4, 8]
    assert [o.shape[-1] for o in outs] == [32 // r for r in net.feature_info.reduction()]


def test_dict_output_keys_as_given(tiny_env):
    net = create_model("tinytest", features_only=True, out_indices=(-1, 0), feature_cls="dict")
    assert isinstance(net, FeatureDictNet)
    outs = net(X)
    assert list(outs) == ["-1", "0"]
    assert outs["-1"].shape[1] == 32 and outs["0"].shape[1] == 8
    assert net.feature_info.channels() == [32, 8]


def test_int_out_indices_means_last_n(tiny_env):
    net = create_model("tinytest", features_only=True, out_indices=2)
    assert [o.shape[1] for o in net(X)] == [16, 32]


def test_state_dict_keys_are_original_minus_head(tiny_env):
    full = create_model("tinytest")
    net = create_model("tinytest", features_only=True)
    expected = [k for k in full.state_dict() if not k.startswith(("fc.", "global_pool."))]
    assert list(net.state_dict()) == expected
    early = create_model("tinytest", features_only=True, out_indices=(0,))
    assert [n for n, _ in early.named_children()] == ["conv1", "bn1", "act1"]
    early.load_state_dict({k: v for k, v in full.state_dict().items() if k.startswith(("conv1", "bn1"))})


def test_both_paths_agree(tiny_env):
    torch.manual_seed(0)
    with_fi = create_model("tinytest_fi").eval()
    without_fi = TinyNet(num_classes=10).eval()
    without_fi.load_state_dict(with_fi.state_dict())
    via_fi = create_features(with_fi, (2, 0))
    via_seq = create_features(without_fi, (2, 0))
    assert via_fi._use_intermediates and not via_seq._use_intermediates
    for a, b in zip(via_fi(X), via_seq(X), strict=True):
        torch.testing.assert_close(a, b)
    outs = via_seq(X)
    assert [o.shape[1] for o in outs] == [32, 8]


def test_wrapper_cfg_has_no_head_fields(tiny_env):
    net = create_model("tinytest", features_only=True)
    assert "num_classes" not in net.pretrained_cfg and "classifier" not in net.pretrained_cfg
    assert net.pretrained_cfg["first_conv"] == "conv1"


def test_device_dtype_moves(tiny_env):
    net = create_model("tinytest_fi", features_only=True).to(torch.float64)
    assert all(o.dtype == torch.float64 for o in net(X.double()))


def test_errors(tiny_env):
    with pytest.raises(ConfigError, match="out of range"):
        create_model("tinytest", features_only=True, out_indices=(3,))
    with pytest.raises(ConfigError):
        create_model("tinytest", features_only=True, out_indices=(0, -3))
    with pytest.raises(ConfigError, match="feature_cls"):
        create_model("tinytest", features_only=True, feature_cls="hook")
    with pytest.raises(ConfigError, match="feature_info"):
        create_features(torch.nn.Conv2d(3, 3, 1))


def test_resolve_out_indices():
    assert resolve_out_indices(None, 3) == ([0, 1, 2], [0, 1, 2])
    assert resolve_out_indices((-1, 1), 3) == ([-1, 1], [2, 1])
    assert resolve_out_indices(1, 3) == ([2], [2])


def test_resnet50d_levels():
    if not is_model("resnet50d"):
        pytest.skip("resnet plugin not available")
    net = create_model("resnet50d", features_only=True).eval()
    assert net.feature_info.reduction() == [2, 4, 8, 16, 32]
    assert net.feature_info.channels() == [64, 256, 512, 1024, 2048]
    outs = net(torch.randn(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [64, 256, 512, 1024, 2048]
    assert [o.shape[-1] for o in outs] == [16, 8, 4, 2, 1]
    r18 = create_model("resnet18", features_only=True, out_indices=(2,))
    assert [n for n, _ in r18.named_children()] == ["conv1", "bn1", "act1", "maxpool", "layer1", "layer2"]


def test_render_feature_maps(tiny_env):
    from PIL import Image

    from pimm.core.app.show_features import render_feature_maps

    image = tiny_env / "in.png"
    Image.new("RGB", (50, 40), (200, 30, 90)).save(image)
    out = render_feature_maps("tinytest", image, tiny_env / "maps" / "out.png", max_channels=4,
                              input_size=32, pretrained=False)
    with Image.open(out) as picture:
        assert picture.format == "PNG"
        width, height = picture.size
    assert width >= 2 * 64 and height >= 3 * 64  # 2x2 grid per level, three levels
    with pytest.warns(UserWarning, match="randomly initialised"):
        render_feature_maps("tinytest", image, tiny_env / "maps2.png", max_channels=2, input_size=32)
