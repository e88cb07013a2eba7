"""save_pretrained → create_model('local-dir:DIR') / 'hf-hub:ID' round trips."""

from __future__ import annotations

import json

import pytest
import torch
from model_helpers import make_hf_cache, tiny_env  # noqa: F401
from safetensors.torch import load_file

from pimm.core.errors import ConfigError
from pimm.core.models import create_model, is_model, save_pretrained

X = torch.randn(2, 3, 32, 32)


def test_round_trip_same_outputs(tiny_env):
    model = create_model("tinytest", num_classes=5, width=4, global_pool="max").eval()
    out = save_pretrained(model, tiny_env / "saved")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((out / "config.json").read_text())
    assert config["architecture"] == "tinytest" and config["num_classes"] == 5
    assert config["pimm"]["plugin"] == "tiny_test_models"
    assert config["pimm"]["options"]["width"] == 4 and config["pimm"]["options"]["global_pool"] == "max"
    assert "url" not in config["pretrained_cfg"] and config["pretrained_cfg"]["num_classes"] == 5
    assert set(load_file(str(out / "model.safetensors"))) == set(model.state_dict())
    again = create_model(f"local-dir:{out}").eval()
    assert type(again) is type(model) and again.pimm_origin.options == model.pimm_origin.options
    torch.testing.assert_close(again(X), model(X), rtol=0, atol=0)
    assert again.pretrained_cfg["source"] == "local-dir"


def test_local_dir_options_can_be_overridden(tiny_env):
    model = create_model("tinytest", num_classes=5)
    out = save_pretrained(model, tiny_env / "saved")
    other = create_model(f"local-dir:{out}", num_classes=3)
    assert other.num_classes == 3
    torch.testing.assert_close(other.conv1.weight, model.conv1.weight)
    bare = create_model(f"local-dir:{out}", pretrained=False)
    assert not torch.equal(bare.conv1.weight, model.conv1.weight)


def test_reset_classifier_before_save(tiny_env):
    model = create_model("tinytest", num_classes=5)
    model.reset_classifier(7)
    out = save_pretrained(model, tiny_env / "saved")
    assert create_model(f"local-dir:{out}").fc.weight.shape == (7, 32)


def test_features_from_saved_dir(tiny_env):
    out = save_pretrained(create_model("tinytest"), tiny_env / "saved")
    net = create_model(f"local-dir:{out}", features_only=True, out_indices=(-1,))
    assert net(X)[0].shape == (2, 32, 4, 4)


def test_timm_style_config(tiny_env):
    model = create_model("tinytest", num_classes=6)
    folder = tiny_env / "timm_style"
    folder.mkdir()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    config = {"architecture": "tinytest", "num_classes": 6, "num_features": 32,
              "pretrained_cfg": {"tag": "x", "mean": [0.5, 0.5, 0.5], "custom_field": 1}}
    (folder / "config.json").write_text(json.dumps(config))
    again = create_model(f"local-dir:{folder}")
    assert again.num_classes == 6 and again.pretrained_cfg["mean"] == (0.5, 0.5, 0.5)
    torch.testing.assert_close(again.fc.weight, model.fc.weight)


def test_hf_hub_model_from_cache(tiny_env, monkeypatch):
    model = create_model("tinytest", num_classes=4).eval()
    saved = save_pretrained(model, tiny_env / "saved")
    files = {p.name: p.read_bytes() for p in saved.iterdir()}
    make_hf_cache(tiny_env / "hf", "someone/my-tiny", files)
    again = create_model("hf-hub:someone/my-tiny").eval()
    torch.testing.assert_close(again(X), model(X))
    assert again.pretrained_cfg["hf_hub_id"] == "someone/my-tiny"


def test_hf_hub_missing_config_is_clear(tiny_env):
    with pytest.raises(FileNotFoundError, match="config.json"):
        create_model("hf-hub:someone/absent")


def test_errors(tiny_env):
    with pytest.raises(ConfigError, match="config.json"):
        create_model(f"local-dir:{tiny_env}")
    with pytest.raises(ConfigError, match="create_model"):
        save_pretrained(torch.nn.Linear(2, 2), tiny_env / "x")
    with pytest.raises(ConfigError, match="features_only"):
        save_pretrained(create_model("tinytest", features_only=True), tiny_env / "x")


def test_resnet_round_trip(tmp_path):
    if not is_model("resnet10t"):
        pytest.skip("resnet plugin not available")
    model = create_model("resnet10t", num_classes=3, in_chans=1).eval()
    out = save_pretrained(model, tmp_path / "r18")
    again = create_model(f"local-dir:{out}").eval()
    x = torch.randn(1, 1, 32, 32)
    torch.testing.assert_close(again(x), model(x))
