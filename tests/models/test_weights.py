"""Weights from every source, safe reading, checksums, adaptation, checkpoint loading."""

from __future__ import annotations

import hashlib
import os
import pickle

import pytest
import torch
from model_helpers import HUB_ID, URL, make_hf_cache, tiny_env, tiny_state_dict  # noqa: F401
from safetensors.torch import save_file

from pimm.core.models import (
    ChecksumError,
    CheckpointMismatchError,
    UnsafeCheckpointError,
    WeightsNotFoundError,
    adapt_input_conv,
    create_model,
    load_checkpoint,
    unwrap_checkpoint,
)
from pimm.core.models import hub as hubmod
from pimm.core.models import weights as weightsmod


def _same(model, state_dict, skip=()):
    own = model.state_dict()
    for key, value in state_dict.items():
        if key in skip:
            continue
        assert torch.equal(own[key], value), key


@pytest.fixture
def no_network(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("network used although a local copy exists")

    monkeypatch.setattr(hubmod, "download_url", fail)
    monkeypatch.setattr(hubmod, "download_hub_file", fail)
    monkeypatch.delenv("PIMM_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")


# -- sources ----------------------------------------------------------------------------------


def test_hub_cache_prefers_safetensors(tiny_env, no_network):
    good, other = tiny_state_dict(1), tiny_state_dict(2)
    make_hf_cache(tiny_env / "hf", HUB_ID, {"model.safetensors": good, "pytorch_model.bin": other})
    model = create_model("tinytest", pretrained=True)
    _same(model, good)


def test_hub_cache_bin_only(tiny_env, no_network):
    sd = tiny_state_dict(3)
    make_hf_cache(tiny_env / "hf", HUB_ID, {"pytorch_model.bin": sd})
    _same(create_model("tinytest.a_in1k", pretrained=True), sd)


def test_hub_cache_goes_through_huggingface_hub(tiny_env, no_network, monkeypatch):
    """The cache is read with huggingface_hub's own API (no hand-written layout reader)."""
    import huggingface_hub

    sd = tiny_state_dict(5)
    make_hf_cache(tiny_env / "hf", HUB_ID, {"model.safetensors": sd})
    calls = []
    original = huggingface_hub.try_to_load_from_cache
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: calls.append(a) or original(*a, **k))
    _same(create_model("tinytest", pretrained=True), sd)
    assert calls and calls[0][:2] == (HUB_ID, "model.safetensors")


def test_hub_revision(tiny_env, no_network):
    main_sd, v1_sd = tiny_state_dict(6), tiny_state_dict(7)
    make_hf_cache(tiny_env / "hf", HUB_ID, {"model.safetensors": main_sd})
    make_hf_cache(tiny_env / "hf", HUB_ID, {"model.safetensors": v1_sd}, revision="v1", commit="f" * 40)
    model = create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(hf_hub_id=HUB_ID + "@v1"))
    _same(model, v1_sd)


def test_torch_hub_cache_for_url(tiny_env, no_network):
    sd = tiny_state_dict(8)
    ckpt_dir = tiny_env / "torch" / "hub" / "checkpoints"
    ckpt_dir.mkdir(parents=True)
    torch.save(sd, ckpt_dir / "tinytest_b-4567.pth")
    _same(create_model("tinytest.b_in1k", pretrained=True), sd)


def test_local_file_and_directory(tiny_env, no_network):
    sd = tiny_state_dict(9)
    path = tiny_env / "w.safetensors"
    save_file(sd, str(path))
    _same(create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(path))), sd)
    folder = tiny_env / "weights"
    folder.mkdir()
    torch.save({"state_dict": sd}, folder / "checkpoint.pth.tar")
    _same(create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(folder))), sd)


def test_directory_preference(tmp_path):
    for name in ("a.bin", "b.pth", "pytorch_model.bin"):
        (tmp_path / name).write_bytes(b"x")
    assert weightsmod.find_weights_in_directory(tmp_path).name == "pytorch_model.bin"
    (tmp_path / "model.safetensors").write_bytes(b"x")
    assert weightsmod.find_weights_in_directory(tmp_path).name == "model.safetensors"
    other = tmp_path / "o"
    other.mkdir()
    (other / "z.bin").write_bytes(b"x")
    (other / "y.pth").write_bytes(b"x")
    assert weightsmod.find_weights_in_directory(other).name == "y.pth"


def test_missing_weights_one_clear_error(tiny_env):
    with pytest.raises(WeightsNotFoundError) as info:
        create_model("tinytest", pretrained=True)
    text = str(info.value)
    assert "tinytest.a_in1k" in text and "offline" in text
    assert str(tiny_env / "torch" / "hub" / "checkpoints" / "tinytest_a-0123.pth") in text
    assert "models--fake-org--tinytest.a_in1k" in text and "model.safetensors" in text
    assert isinstance(info.value, FileNotFoundError)


def test_no_weights_for_untrained_tag(tiny_env):
    with pytest.raises(WeightsNotFoundError, match="no pretrained weights"):
        create_model("tinytest.untrained", pretrained=True)


def test_missing_explicit_file(tiny_env):
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(tiny_env / "nope.pth")))


def test_url_download_when_online(tiny_env, monkeypatch):
    monkeypatch.delenv("PIMM_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hubmod, "hub_available", lambda: False)
    sd = tiny_state_dict(10)
    fetched = []

    def fake_download(url, dest):
        fetched.append((url, dest))
        dest.parent.mkdir(parents=True, exist_ok=True)
        torch.save(sd, dest)
        return dest

    monkeypatch.setattr(hubmod, "download_url", fake_download)
    monkeypatch.setattr(hubmod, "host_resolves", lambda url: True)
    _same(create_model("tinytest", pretrained=True), sd)
    assert fetched[0][0] == URL and fetched[0][1].name == "tinytest_a-0123.pth"
    _same(create_model("tinytest", pretrained=True), sd)  # second time: cached, no download
    assert len(fetched) == 1


def test_no_network_fails_fast_without_download_attempts(tiny_env, no_network, monkeypatch):
    monkeypatch.setattr(hubmod, "host_resolves", lambda url: False)
    with pytest.raises(WeightsNotFoundError, match="no network"):
        create_model("tinytest", pretrained=True)


# -- safety and integrity ---------------------------------------------------------------------


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_malicious_pickle_is_refused(tiny_env):
    marker = tiny_env / "pwned"
    path = tiny_env / "evil.pth"
    with open(path, "wb") as handle:
        pickle.dump({"conv1.weight": _Exploit(marker)}, handle)
    with pytest.raises(UnsafeCheckpointError, match="could run arbitrary code"):
        create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    zipped = tiny_env / "evil_zip.pth"
    torch.save({"x": _Exploit(marker)}, zipped)
    with pytest.raises(UnsafeCheckpointError):
        weightsmod.read_checkpoint(zipped)
    assert not marker.exists()


def _damaged_files(folder) -> dict[str, bytes]:
    buffer = __import__("io").BytesIO()
    torch.save({"w": torch.ones(64, 64)}, buffer)
    whole = buffer.getvalue()
    legacy = __import__("io").BytesIO()
    torch.save({"w": torch.ones(8)}, legacy, _use_new_zipfile_serialization=False)
    files = {f"random{seed}": torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(seed),
                                            dtype=torch.uint8).numpy().tobytes() for seed in range(8)}
    files.update({"text": b"this is not a checkpoint\n" * 20, "truncated zip": whole[: len(whole) // 2],
                  "truncated legacy": legacy.getvalue()[:40], "empty-ish": b"\x80",
                  "plain pickle of data": pickle.dumps({"a": [1, 2], "b": "x"}, protocol=4)})
    return files


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_random_bytes_named_pth_are_damaged_not_dangerous(tiny_env):
    """A .pth that is not a checkpoint (random bytes, text, a truncated save) is reported as
    unreadable/damaged — never as a pickle that 'could run code'."""
    for what, data in _damaged_files(tiny_env).items():
        path = tiny_env / f"{what.replace(' ', '_')}.pth"
        path.write_bytes(data)
        with pytest.raises(weightsmod.CheckpointReadError, match="damaged, truncated or not a PyTorch checkpoint") as info:
            weightsmod.read_checkpoint(path)
        assert "arbitrary code" not in str(info.value), what
    with pytest.raises(weightsmod.CheckpointReadError, match="damaged"):
        create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(tiny_env / "random0.pth")))


def test_sha256_checked(tiny_env):
    sd = tiny_state_dict(11)
    path = tiny_env / "w.safetensors"
    save_file(sd, str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    ok = create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(path), sha256=digest.upper()))
    _same(ok, sd)
    with pytest.raises(ChecksumError, match=digest):
        create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(path), sha256="0" * 64))


def test_namespace_in_checkpoint_allowed(tmp_path):
    import argparse

    sd = tiny_state_dict(12)
    torch.save({"state_dict": sd, "args": argparse.Namespace(lr=0.1), "epoch": 3}, tmp_path / "c.pth")
    assert set(unwrap_checkpoint(weightsmod.read_checkpoint(tmp_path / "c.pth"))) == set(sd)


# -- adaptation -------------------------------------------------------------------------------


def test_adapt_input_conv_timm_rule():
    w = torch.randn(4, 3, 3, 3)
    torch.testing.assert_close(adapt_input_conv(1, w), w.sum(1, keepdim=True))
    torch.testing.assert_close(adapt_input_conv(2, w), w[:, :2] * 1.5)
    torch.testing.assert_close(adapt_input_conv(4, w), torch.cat([w, w[:, :1]], 1) * 0.75)
    torch.testing.assert_close(adapt_input_conv(7, w), torch.cat([w, w, w[:, :1]], 1) * (3 / 7))
    assert adapt_input_conv(3, w) is w
    half = adapt_input_conv(2, w.half())
    assert half.dtype == torch.float16


def test_adapt_input_conv_other_sources():
    w = torch.randn(4, 4, 3, 3)
    torch.testing.assert_close(adapt_input_conv(1, w), w.sum(1, keepdim=True))
    torch.testing.assert_close(adapt_input_conv(2, w), w[:, :2] * 2.0)
    torch.testing.assert_close(adapt_input_conv(6, w), torch.cat([w, w[:, :2]], 1) * (4 / 6))
    w1 = torch.randn(4, 1, 3, 3)
    torch.testing.assert_close(adapt_input_conv(3, w1), w1.repeat(1, 3, 1, 1) / 3)


@pytest.mark.parametrize("in_chans", [1, 2, 4])
def test_pretrained_in_chans(tiny_env, in_chans):
    sd = tiny_state_dict(13)
    path = tiny_env / "w.safetensors"
    save_file(sd, str(path))
    model = create_model("tinytest", pretrained=True, in_chans=in_chans, pretrained_cfg_overlay=dict(file=str(path)))
    torch.testing.assert_close(model.state_dict()["conv1.weight"], adapt_input_conv(in_chans, sd["conv1.weight"]))
    _same(model, sd, skip=("conv1.weight",))
    assert model(torch.randn(1, in_chans, 32, 32)).shape == (1, 10)


def test_classifier_dropped_only_when_classes_differ(tiny_env):
    sd = tiny_state_dict(14)
    path = tiny_env / "w.safetensors"
    save_file(sd, str(path))
    overlay = dict(file=str(path))
    model = create_model("tinytest", pretrained=True, num_classes=3, pretrained_cfg_overlay=overlay)
    assert model.fc.weight.shape == (3, 32) and not model.fc.weight.is_meta
    _same(model, sd, skip=("fc.weight", "fc.bias"))
    headless = create_model("tinytest", pretrained=True, num_classes=0, pretrained_cfg_overlay=overlay)
    assert headless(torch.randn(1, 3, 32, 32)).shape == (1, 32)
    _same(create_model("tinytest", pretrained=True, pretrained_cfg_overlay=overlay), sd)


def test_strict_otherwise(tiny_env):
    sd = tiny_state_dict(15)
    sd["extra.weight"] = torch.zeros(1)
    path = tiny_env / "w.safetensors"
    save_file(sd, str(path))
    with pytest.raises(CheckpointMismatchError, match="extra.weight"):
        create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    del sd["extra.weight"], sd["layer1.0.bias"]
    save_file(sd, str(path))
    with pytest.raises(CheckpointMismatchError, match="layer1.0.bias"):
        create_model("tinytest", pretrained=True, num_classes=3, pretrained_cfg_overlay=dict(file=str(path)))


def test_meta_creation_leaves_nothing_on_meta(tiny_env):
    sd = tiny_state_dict(16)
    path = tiny_env / "w.safetensors"
    save_file({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, str(path))
    model = create_model("tinytest", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    assert not any(t.is_meta for t in list(model.parameters()) + list(model.buffers()))
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(p.requires_grad for p in model.parameters())
    model(torch.randn(1, 3, 32, 32)).sum().backward()


def test_checkpoint_filter_hook(tiny_env):
    sd = tiny_state_dict(17)
    foreign = {("stem." + k[6:] if k.startswith("conv1.") else k): v for k, v in sd.items()}
    path = tiny_env / "foreign.safetensors"
    save_file(foreign, str(path))
    model = create_model("tinytest_remap", num_classes=10, pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    _same(model, sd)


# -- load_checkpoint / checkpoint_path --------------------------------------------------------


def test_load_checkpoint_prefixes_and_ema(tiny_env):
    plain, ema = tiny_state_dict(18), tiny_state_dict(19)
    wrapped = {
        "state_dict": {"module." + k: v for k, v in plain.items()},
        "state_dict_ema": {"_orig_mod.module." + k: v for k, v in ema.items()},
        "epoch": 4,
    }
    path = tiny_env / "train.pth"
    torch.save(wrapped, path)
    model = create_model("tinytest")
    _same(load_checkpoint(model, str(path)), ema)
    _same(load_checkpoint(model, str(path), use_ema=False), plain)
    torch.save({"model": plain, "model_ema": ema}, path)
    _same(create_model("tinytest", checkpoint_path=str(path)), ema)


def test_load_checkpoint_adapts_and_is_strict(tiny_env):
    sd = tiny_state_dict(20)
    path = tiny_env / "c.safetensors"
    save_file(sd, str(path))
    model = create_model("tinytest", in_chans=1, num_classes=4, checkpoint_path=str(path))
    torch.testing.assert_close(model.conv1.weight, sd["conv1.weight"].sum(1, keepdim=True))
    assert model.fc.weight.shape == (4, 32)
    with pytest.raises(CheckpointMismatchError):
        load_checkpoint(create_model("tinytest", num_classes=4), str(path), adapt=False)
    with pytest.raises(WeightsNotFoundError):
        load_checkpoint(model, str(tiny_env / "missing.pth"))


def test_cache_dir_argument(tiny_env, no_network):
    sd = tiny_state_dict(21)
    custom = tiny_env / "custom_cache"
    make_hf_cache(custom, HUB_ID, {"model.safetensors": sd})
    _same(create_model("tinytest", pretrained=True, cache_dir=str(custom)), sd)
    url_sd = tiny_state_dict(22)
    torch.save(url_sd, custom / "tinytest_b-4567.pth")
    _same(create_model("tinytest.b_in1k", pretrained=True, cache_dir=custom), url_sd)


def test_features_only_with_pretrained(tiny_env):
    sd = tiny_state_dict(23)
    path = tiny_env / "w.safetensors"
    save_file(sd, str(path))
    net = create_model("tinytest", pretrained=True, features_only=True, pretrained_cfg_overlay=dict(file=str(path)))
    _same(net, {k: v for k, v in sd.items() if not k.startswith("fc.")})
    assert "fc.weight" not in net.state_dict()


def test_hub_download_when_online(tiny_env, monkeypatch):
    pytest.importorskip("huggingface_hub")
    monkeypatch.delenv("PIMM_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hubmod, "host_resolves", lambda url: True)
    sd = tiny_state_dict(24)
    asked = []

    class EntryNotFoundError(Exception):
        pass

    def fake_hub_download(repo, filename, revision=None, cache_dir=None):
        asked.append(filename)
        if filename == "model.safetensors":
            raise EntryNotFoundError(filename)
        path = tiny_env / "downloaded.bin"
        torch.save(sd, path)
        return path

    monkeypatch.setattr(hubmod, "download_hub_file", fake_hub_download)
    monkeypatch.setattr(hubmod, "download_url", lambda *a: pytest.fail("URL used although the hub had the file"))
    _same(create_model("tinytest", pretrained=True), sd)
    assert asked == ["model.safetensors", "pytorch_model.bin"]


def _torch_load_calls(root):
    import ast
    from pathlib import Path

    for path in sorted(Path(root).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
                yield path, node


def test_every_torch_load_in_pimm_says_weights_only_true():
    """No behaviour rests on torch.load's default (weights_only flipped in torch 2.6): every call is explicit."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    calls = [(p, n) for folder in ("core", "plugins") for p, n in _torch_load_calls(repo / folder)]
    assert calls, "expected at least the checkpoint readers"
    for path, node in calls:
        flags = {kw.arg: kw.value for kw in node.keywords}
        value = flags.get("weights_only")
        assert value is not None and getattr(value, "value", None) is True, f"{path}:{node.lineno}"


def test_pyproject_torch_floor_is_the_tested_torch():
    """The oldest torch/torchvision pyproject allows is never older than what the suite runs on here."""
    import tomllib
    from pathlib import Path

    import torchvision

    deps = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["dependencies"]
    floors = {d.split(">=")[0].strip(): d.split(">=")[1].split(",")[0].strip() for d in deps if ">=" in d}

    def version(text):
        return tuple(int(p) for p in text.split("+")[0].split(".")[:2])

    assert version(floors["torch"]) <= version(torch.__version__)
    assert version(floors["torchvision"]) <= version(torchvision.__version__)
    assert version(floors["torch"]) >= (2, 14), "raise only with a run of the suite on the older torch"
