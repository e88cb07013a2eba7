"""The bridged models' contract beyond the kit: token models, fixed-grid heads, options, feature levels."""

import pytest
import torch
from torch import nn

from pimm.core import create_model, hookimpl, register_plugin, unregister_plugin
from pimm.core.errors import PimmError
from pimm.core.models.options import PoolOptions
from pimm.core.specs import PoolSpec


def test_vit_forward_features_are_tokens_and_pools_are_token_avg_or_none():
    model = create_model("tv-vit_b_32", img_size=64, num_classes=5).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        tokens = model.forward_features(x)
        assert tokens.shape == (2, 1 + 4, 768)
        assert torch.equal(model.forward_head(tokens, pre_logits=True), tokens[:, 0])
        model.reset_classifier(0, "avg")
        assert torch.allclose(model(x), tokens[:, 1:].mean(1))
        model.reset_classifier(0, "")
        assert model(x).shape == (2, 5, 768)
        model.reset_classifier(3, "token")
        assert model(x).shape == (2, 3) and model.get_classifier().out_features == 3
    with pytest.raises(PimmError, match="'token', 'avg' or ''"):
        create_model("tv-vit_b_32", img_size=64, global_pool="max")


def test_vit_weights_load_at_another_input_size(tmp_path):
    import torchvision.models as tvm

    torch.manual_seed(0)
    reference = tvm.vit_b_32().eval()  # 224 px: a 7x7 grid of patches
    path = tmp_path / "vit.pth"
    torch.save(reference.state_dict(), path)
    model = create_model("tv-vit_b_32", img_size=96, pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    embedding = model.encoder.pos_embedding
    assert embedding.shape == (1, 1 + 9, 768)
    assert torch.equal(embedding[:, 0], reference.encoder.pos_embedding[:, 0])
    assert torch.equal(model.conv_proj.weight, reference.conv_proj.weight)
    grid = reference.encoder.pos_embedding[:, 1:].reshape(1, 7, 7, 768).permute(0, 3, 1, 2)
    expected = torch.nn.functional.interpolate(grid, size=(3, 3), mode="bicubic", align_corners=False)
    assert torch.allclose(embedding[:, 1:], expected.permute(0, 2, 3, 1).reshape(1, 9, 768))
    assert model(torch.randn(1, 3, 96, 96)).shape == (1, 1000)


def test_fixed_size_models_default_to_their_default_weights_size():
    from pimm.core.factory import build_entry, resolve

    with torch.device("meta"):  # shapes only: vit_h_14 has 632M parameters
        bare = build_entry(resolve("model", "tv-vit_h_14"))  # no pretrained config injected
    assert bare.image_size == 518, "the default tag is SWAG at 518 px"
    assert create_model("tv-vit_b_16").image_size == 224


def test_vit_says_what_it_does_not_support():
    with pytest.raises(PimmError, match="no feature maps"):
        create_model("tv-vit_b_32", img_size=64, features_only=True)
    model = create_model("tv-vit_b_32", img_size=64)
    with pytest.raises(PimmError, match="built for 64x64 inputs, got 32x32"):
        model(torch.randn(1, 3, 32, 32))
    with pytest.raises(PimmError, match="stochastic depth"):
        create_model("tv-vit_b_32", img_size=64, drop_path_rate=0.1)


def test_grid_head_models_accept_only_their_own_pooling():
    model = create_model("tv-alexnet", num_classes=0).eval()
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        assert model(x).shape == (1, 4096) and model.head_hidden_size == 4096
        model.reset_classifier(0, "")
        assert model(x).ndim == 4
    with pytest.raises(PimmError, match="'avg'"):
        create_model("tv-alexnet", global_pool="max")
    with pytest.raises(PimmError, match="fixed grid"):
        model.reset_classifier(0, "max")
    model.reset_classifier(10, "avg")
    assert model(x).shape == (1, 10) and model.get_classifier().in_features == 4096
    with pytest.raises(PimmError, match="num_classes=0"):
        create_model("tv-alexnet", global_pool="", num_classes=10)
    squeeze = create_model("tv-squeezenet1_1", num_classes=0).eval()
    with torch.no_grad():
        assert squeeze(x).shape == (1, 512)
        squeeze.reset_classifier(6, "")
        assert squeeze(x).shape[:2] == (1, 6) and squeeze(x).ndim == 4  # per-position class maps


def test_drop_rate_defaults_to_torchvisions_and_can_be_set():
    assert create_model("tv-efficientnet_b3").head_drop.p == 0.3
    assert create_model("tv-efficientnet_b0", drop_rate=0.5).head_drop.p == 0.5
    assert create_model("tv-resnet18").head_drop.p == 0.0
    alex = create_model("tv-alexnet", drop_rate=0.1)
    assert [m.p for m in alex.classifier if isinstance(m, nn.Dropout)] == [0.1, 0.1]


def test_drop_path_rate_is_torchvisions_stochastic_depth():
    model = create_model("tv-convnext_tiny", drop_path_rate=0.3)
    assert model.features[-1][-1].stochastic_depth.p == pytest.approx(0.3)  # the last block gets the full rate
    assert create_model("tv-convnext_tiny").features[-1][-1].stochastic_depth.p == pytest.approx(0.1)
    with pytest.raises(PimmError, match="no stochastic depth"):
        create_model("tv-resnet18", drop_path_rate=0.1)


def test_features_only_levels_out_indices_and_dict():
    net = create_model("tv-resnet18", features_only=True, out_indices=(1, -1))
    outs = net(torch.randn(1, 3, 64, 64))
    assert [o.shape[1:] for o in outs] == [(64, 16, 16), (512, 2, 2)]
    assert net.feature_info.module_name() == ["layer1", "layer4"] and net.feature_info.reduction() == [4, 32]
    as_dict = create_model("tv-efficientnet_b0", features_only=True, out_indices=(-2,), feature_cls="dict")
    out = as_dict(torch.randn(1, 3, 64, 64))
    assert list(out) == ["-2"] and out["-2"].shape == (1, 112, 4, 4)
    assert as_dict.feature_info.module_name() == ["features.5"]


def test_swin_levels_are_channel_first():
    net = create_model("tv-swin_t", features_only=True)
    outs = net(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(96, 16, 16), (192, 8, 8), (384, 4, 4), (768, 2, 2)]


def test_output_stride_dilates_resnets_only():
    model = create_model("tv-resnet50", output_stride=16, num_classes=0, global_pool="")
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 2048, 4, 4)
    assert [d["reduction"] for d in model.feature_info] == [2, 4, 8, 16, 16]
    with pytest.raises(PimmError, match="output_stride at 32"):
        create_model("tv-mobilenet_v2", output_stride=16)


class _SumPool(nn.Module):
    """A third-party pool: sum and max side by side (feat_mult 2)."""

    def __init__(self, flatten: bool = False) -> None:
        super().__init__()
        self.flatten = flatten

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([x.sum((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)], 1)
        return out.flatten(1) if self.flatten else out


class _PoolPlugin:
    @hookimpl
    def pimm_pools(self):
        return [PoolSpec(name="sumax", target=f"{__name__}:_SumPool", options=PoolOptions, feat_mult=2,
                         summary="test pool")]


def test_a_third_party_pool_works_as_global_pool():
    register_plugin(_PoolPlugin(), name="sumax-test")
    try:
        model = create_model("tv-convnext_tiny", global_pool="sumax", num_classes=3).eval()
        with torch.no_grad():
            assert model(torch.randn(2, 3, 64, 64)).shape == (2, 3)
        assert model.get_classifier().in_features == 2 * 768 and model.classifier[0].normalized_shape == (1536,)
        model.reset_classifier(0)
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1536)
    finally:
        unregister_plugin("sumax-test")


def test_reset_classifier_keeps_dtype_and_mode_for_mlp_heads():
    model = create_model("tv-mobilenet_v3_small").to(torch.float64).train()
    model.reset_classifier(4, "max")
    assert model.get_classifier().weight.dtype == torch.float64 and model.get_classifier().training
    assert model(torch.randn(2, 3, 64, 64, dtype=torch.float64)).shape == (2, 4)


@pytest.mark.parametrize("name,options", [("tv-vit_b_32", {"img_size": 64}), ("tv-maxvit_t", {})])
def test_grad_checkpointing_keeps_outputs_and_gradients(name, options):
    model = create_model(name, num_classes=3, **options).eval()
    x = torch.randn(1, 3, 64 if options else 224, 64 if options else 224)
    reference = model(x)
    reference.sum().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    model.set_grad_checkpointing(True)
    out = model(x)
    out.sum().backward()
    assert torch.allclose(out, reference, atol=1e-5)
    assert all(torch.allclose(p.grad, grads[n], atol=1e-4) for n, p in model.named_parameters() if p.grad is not None)
