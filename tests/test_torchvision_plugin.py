"""pimm-side support the torchvision bridge relies on: torch hub's hash prefixes in the weight resolver."""

import hashlib
from pathlib import Path

import pytest

from pimm.core.models.factory import read_saved_config
from pimm.core.models.weights import ChecksumError, WeightsNotFoundError, resolve_weights
from pimm.core.specs import PretrainedCfg


def _weights(directory: Path, content: bytes = b"weights") -> tuple[Path, str]:
    prefix = hashlib.sha256(content).hexdigest()[:8]
    path = directory / f"net-{prefix}.pth"
    path.write_bytes(content)
    return path, prefix


def test_hash_prefix_is_checked_on_the_urls_cached_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PIMM_OFFLINE", "1")
    path, prefix = _weights(tmp_path)
    url = f"https://example.invalid/models/{path.name}"
    assert resolve_weights(PretrainedCfg(url=url, hash_prefix=prefix), cache_dir=tmp_path) == path
    with pytest.raises(ChecksumError, match="expected 0123abcd..."):
        resolve_weights(PretrainedCfg(url=url, hash_prefix="0123abcd"), cache_dir=tmp_path)


def test_hash_prefix_does_not_apply_to_a_file_given_by_the_user(tmp_path):
    path, _ = _weights(tmp_path)
    cfg = PretrainedCfg(url="https://example.invalid/models/net-0123abcd.pth", hash_prefix="0123abcd", file=str(path))
    assert resolve_weights(cfg) == path


def test_offline_error_names_the_prefix(tmp_path, monkeypatch):
    monkeypatch.setenv("PIMM_OFFLINE", "1")
    cfg = PretrainedCfg(url="https://example.invalid/models/net-0123abcd.pth", hash_prefix="0123abcd")
    with pytest.raises(WeightsNotFoundError, match=r"net-0123abcd\.pth[\s\S]*start with 0123abcd"):
        resolve_weights(cfg, cache_dir=tmp_path)


def test_saved_directories_do_not_inherit_the_urls_hash_prefix(tmp_path):
    (tmp_path / "config.json").write_text(
        '{"architecture": "resnet18", "pretrained_cfg": {"url": "https://x.invalid/a-0123abcd.pth", '
        '"hash_prefix": "0123abcd", "num_classes": 3}}'
    )
    _, _, cfg = read_saved_config("local-dir", str(tmp_path))
    assert "hash_prefix" not in cfg and cfg["file"] == str(tmp_path)
