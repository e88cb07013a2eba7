"""`pimm push RUN --repo ID` uploads best/ and the run config through huggingface_hub to a (local) hub,
and `hf-hub:ID` loads exactly those weights back."""

from __future__ import annotations

import json

import pytest
import torch
from hub_server import LocalHub
from model_helpers import tiny_env  # noqa: F401 (fixture)

from pimm.core.app.cli import EXIT_ERROR, main
from pimm.core.app.train.checkpoint import save_model_dir
from pimm.core.models import create_model

hf_constants = pytest.importorskip("huggingface_hub.constants")


@pytest.fixture
def hub(tiny_env, monkeypatch):
    server = LocalHub()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_TOKEN", "hf_local_test_token")
    monkeypatch.delenv("PIMM_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    yield server.state
    server.close()


@pytest.fixture
def run_dir(tiny_env):
    run = tiny_env / "runs" / "exp1"
    torch.manual_seed(3)
    best = create_model("tinytest", num_classes=3)
    last = create_model("tinytest", num_classes=3)
    save_model_dir(best, run / "best", ["a", "b", "c"])
    save_model_dir(last, run / "last", ["a", "b", "c"])
    (run / "config.json").write_text(json.dumps({"model": "tinytest", "epochs": 2}))
    return run, best


def test_push_uploads_best_and_hf_hub_loads_it(hub, run_dir, capsys):
    run, best = run_dir
    assert main(["push", str(run), "--repo", "me/tiny-run"]) == 0
    assert "pushed" in capsys.readouterr().out
    files = hub.repos["me/tiny-run"]["files"]
    assert set(files) == {"config.json", "model.safetensors", "pimm_run_config.json"}
    assert json.loads(files["pimm_run_config.json"]) == {"model": "tinytest", "epochs": 2}
    assert files["model.safetensors"] == (run / "best" / "model.safetensors").read_bytes()  # best/, not last/
    loaded = create_model("hf-hub:me/tiny-run")
    for key, value in best.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert list(loaded.pretrained_cfg["label_names"]) == ["a", "b", "c"]
    # pushing again to the existing repo is a new commit, not an error
    assert main(["push", str(run), "--repo", "me/tiny-run", "-m", "again"]) == 0


def test_push_refuses_what_is_not_a_model(hub, tmp_path, capsys, monkeypatch):
    (tmp_path / "empty").mkdir()
    assert main(["push", str(tmp_path / "empty"), "--repo", "me/x"]) == EXIT_ERROR
    assert "holds no model" in capsys.readouterr().err
    assert main(["push", str(tmp_path / "empty"), "--repo", "no-owner"]) == EXIT_ERROR
    assert "must look like OWNER/NAME" in capsys.readouterr().err
    monkeypatch.setenv("PIMM_OFFLINE", "1")
    assert main(["push", str(tmp_path / "empty"), "--repo", "me/x"]) == EXIT_ERROR
    assert "offline" in capsys.readouterr().err
    assert hub.count() == 0
