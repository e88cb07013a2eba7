"""The real download path, against a local hub on 127.0.0.1 (tests/hub_server.py) that counts requests.

create_model(..., pretrained=True) downloads through huggingface_hub (HEAD + GET of resolve/main),
verifies, caches and loads; a second call makes no request; a connection dropped mid-file is
resumed; offline mode makes zero requests; the torch-hub URL path downloads and retries too.
"""

from __future__ import annotations

import hashlib
import io

import pytest
import torch
from hub_server import LocalHub
from model_helpers import HUB_ID, tiny_env, tiny_state_dict  # noqa: F401 (fixture)
from safetensors.torch import save as save_safetensors

from pimm.core.models import create_model
from pimm.core.models.weights import ChecksumError, WeightsNotFoundError

hf_constants = pytest.importorskip("huggingface_hub.constants")


def _same(model, state_dict):
    own = model.state_dict()
    for key, value in state_dict.items():
        assert torch.equal(own[key], value), key


@pytest.fixture
def hub(tiny_env, monkeypatch):
    """A local hub, HF_ENDPOINT pointed at it, network switched on (tiny_env switches it off)."""
    server = LocalHub()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("PIMM_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    # huggingface_hub reads HF_HUB_OFFLINE once, at import; whoever imported it first decided
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    yield server.state
    server.close()


def _safetensors_bytes(sd):
    return save_safetensors({k: v.contiguous() for k, v in sd.items()})


def test_hub_download_verify_cache_and_load(hub, tiny_env):
    sd = tiny_state_dict(3)
    hub.add_file(HUB_ID, "model.safetensors", _safetensors_bytes(sd))
    _same(create_model("tinytest.a_in1k", pretrained=True), sd)
    methods = [m for m, _, _ in hub.requests]
    assert methods == ["HEAD", "GET"], hub.requests
    assert hub.requests[1][1] == f"/{HUB_ID}/resolve/main/model.safetensors"
    cached = list((tiny_env / "hf").rglob("model.safetensors"))
    assert len(cached) == 1 and "snapshots" in str(cached[0])
    # the second call finds the cached copy and makes no request at all
    _same(create_model("tinytest.a_in1k", pretrained=True), sd)
    assert hub.count() == 2


def test_hub_falls_back_to_pytorch_model_bin(hub):
    sd = tiny_state_dict(4)
    buffer = io.BytesIO()
    torch.save(sd, buffer)
    hub.add_file(HUB_ID, "pytorch_model.bin", buffer.getvalue())
    _same(create_model("tinytest.a_in1k", pretrained=True), sd)
    asked = [p.rsplit("/", 1)[-1] for m, p, _ in hub.requests if m == "HEAD"]
    assert asked == ["model.safetensors", "pytorch_model.bin"]


def hub_cache_files(root):
    return [p for p in (root / "hf").rglob("*") if p.is_file() and "blobs" in p.parts]


def test_interrupted_hub_download_resumes(hub, tiny_env):
    sd = tiny_state_dict(5)
    data = _safetensors_bytes(sd)
    hub.add_file(HUB_ID, "model.safetensors", data)
    hub.cut("model.safetensors", times=1)
    _same(create_model("tinytest.a_in1k", pretrained=True), sd)
    gets = [(p, r) for m, p, r in hub.requests if m == "GET"]
    assert len(gets) == 2, hub.requests
    # huggingface_hub resumes from the bytes it wrote, or restarts when the drop came before its first chunk
    assert gets[0][1] is None and gets[1][1] in (None, f"bytes={len(data) // 2}-")
    assert len(list(hub_cache_files(tiny_env))) == 1  # no .incomplete left behind


def test_sha256_of_a_download_is_checked(hub, tiny_env):
    data = _safetensors_bytes(tiny_state_dict(6))
    hub.add_file(HUB_ID, "model.safetensors", data)
    with pytest.raises(ChecksumError, match="sha256"):
        create_model("tinytest.a_in1k", pretrained=True, pretrained_cfg_overlay={"sha256": "0" * 64})
    good = hashlib.sha256(data).hexdigest()
    model = create_model("tinytest.a_in1k", pretrained=True, pretrained_cfg_overlay={"sha256": good})
    _same(model, tiny_state_dict(6))


@pytest.mark.parametrize("switch", ["PIMM_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_makes_zero_requests(hub, monkeypatch, switch):
    hub.add_file(HUB_ID, "model.safetensors", _safetensors_bytes(tiny_state_dict(7)))
    monkeypatch.setenv(switch, "1")
    with pytest.raises(WeightsNotFoundError, match="offline"):
        create_model("tinytest.a_in1k", pretrained=True)
    with pytest.raises(WeightsNotFoundError):
        create_model("hf-hub:fake-org/other", pretrained=True)
    assert hub.count() == 0


def test_url_download_caches_and_retries(hub, tiny_env):
    sd = tiny_state_dict(8)
    buffer = io.BytesIO()
    torch.save(sd, buffer)
    hub.plain["tinytest_c.pth"] = buffer.getvalue()
    hub.cut("/files/tinytest_c.pth", times=1)
    overlay = {"url": f"{hub.url}/files/tinytest_c.pth", "hf_hub_id": None}
    _same(create_model("tinytest.b_in1k", pretrained=True, pretrained_cfg_overlay=overlay), sd)
    half = len(buffer.getvalue()) // 2
    assert hub.requests[1:] == [("GET", "/files/tinytest_c.pth", f"bytes={half}-")]  # resumed after the drop
    cached = tiny_env / "torch" / "hub" / "checkpoints" / "tinytest_c.pth"
    assert cached.is_file() and cached.read_bytes() == buffer.getvalue()
    assert not [p for p in cached.parent.iterdir() if p.name != "tinytest_c.pth"]  # no partial files left
    _same(create_model("tinytest.b_in1k", pretrained=True, pretrained_cfg_overlay=overlay), sd)
    assert hub.count() == 2


def test_url_not_found_is_one_clear_error(hub):
    overlay = {"url": f"{hub.url}/files/missing.pth", "hf_hub_id": None}
    with pytest.raises(WeightsNotFoundError, match="missing.pth"):
        create_model("tinytest.b_in1k", pretrained=True, pretrained_cfg_overlay=overlay)
    assert hub.count() == 1  # a 404 is not retried
