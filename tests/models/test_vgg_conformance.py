"""VGG gets the model conformance kit in CI: the real VGGs are over 100M parameters (tagged 'large',
swept with --run-large), so the kit runs here on the same VGG class with narrow layers and a narrow
conv-MLP (the ``mlp_width`` architecture argument), with and without batch norm."""

from __future__ import annotations

import pytest
import torch

from pimm import core
from pimm.core.errors import ConfigError
from pimm.core.specs import ModelSpec, PretrainedCfg
from pimm.core.testing import run_checks

TINY_LAYERS = [8, "M", 16, "M", 16, 16, "M", 32, 32, "M", 32, 32, "M"]  # vgg11's shape, 1/16 of its widths


class TinyVggPlugin:
    """vggtiny / vggtiny_bn: the builtin VGG class and options with narrow widths."""

    @core.hookimpl
    def pimm_models(self) -> list[ModelSpec]:
        specs = []
        for batch_norm in (False, True):
            name = "vggtiny_bn" if batch_norm else "vggtiny"
            cfg = PretrainedCfg(architecture=name, tag="untrained", interpolation="bilinear", pool_size=(7, 7),
                                first_conv="features.0", classifier="head.fc")
            specs.append(ModelSpec(
                name=name, target="pimm.plugins.vgg.model:VGG", options="pimm.plugins.vgg.options:VGGOptions",
                arch_args={"layer_cfg": TINY_LAYERS, "batch_norm": batch_norm, "mlp_width": 64},
                pretrained_cfgs={"untrained": cfg},
                tags=frozenset({"classifier", "features", "intermediates", "vgg", "early_pool"}),
            ))
        return specs


@pytest.fixture
def tiny_vggs():
    name = core.register_plugin(TinyVggPlugin(), name="tiny_vgg_test")
    try:
        yield
    finally:
        core.unregister_plugin(name)


def test_the_model_kit_passes_on_vgg(tiny_vggs):
    results = [r for r in run_checks("model", include="vggtiny*") if "::check_" in r.case_id]
    ran = {r.case_id.split("::")[1] for r in results if not r.skipped}
    assert {"check_forward_backward", "check_reset_classifier", "check_every_pool", "check_features_only",
            "check_forward_intermediates", "check_in_chans_adaptation", "check_save_load_round_trip",
            "check_no_classifier_and_unpooled", "check_fx_then_torchscript", "check_pretrained_cfgs"} <= ran
    assert {r.case_id.split("::")[0] for r in results} == {"model/vggtiny", "model/vggtiny_bn"}
    failed = [f"{r.case_id}: {r.message}" for r in results if not r.passed]
    assert not failed, "\n".join(failed)


def test_tiny_vgg_keeps_the_vgg_layout(tiny_vggs):
    model = core.create_model("vggtiny_bn", num_classes=5)
    assert model.num_features == 32 and model.head_hidden_size == 64
    assert model.pre_logits.fc1.weight.shape == (64, 32, 7, 7) and model.head.fc.in_features == 64
    assert [level["module"] for level in model.feature_info][:2] == ["features.2", "features.6"]
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 5)


def test_vgg_mlp_width_is_checked():
    from pimm.plugins.vgg.model import VGG

    with pytest.raises(ConfigError, match="mlp_width"):
        VGG(TINY_LAYERS, mlp_width=0)
