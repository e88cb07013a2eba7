"""A tiny CNN that follows the model contract, registered as a test plugin.

Used by the model-machinery tests so that they exercise the contract on something cheap and do not
depend on any builtin architecture.
"""

# No ``from __future__ import annotations``: torch.fx copies forward's annotations into the code
# it generates, and TorchScript cannot resolve string annotations there.

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from pydantic import Field
from torch import nn

from pimm import core
from pimm.core import hookimpl
from pimm.core.models.head import create_classifier, pool_feat_mult
from pimm.core.models.options import ModelOptions
from pimm.core.specs import ModelSpec, PretrainedCfg

PLUGIN_NAME = "tiny_test_models"
HUB_ID = "fake-org/tinytest.a_in1k"
URL = "https://example.invalid/weights/tinytest_a-0123.pth"


class TinyOptions(ModelOptions):
    """Options of the tiny test models."""

    width: int = Field(8, ge=1, description="Channels of the stem; later levels double it.")


class TinyNet(nn.Module):
    """conv1/bn1/act1 (stride 2) → layer1 (stride 2) → layer2 (stride 2) → pool → fc."""

    def __init__(
        self,
        num_classes: int = 1000,
        in_chans: int = 3,
        global_pool: str = "avg",
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        output_stride: int = 32,
        width: int = 8,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.drop_rate = drop_rate
        self.conv1 = nn.Conv2d(in_chans, width, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = nn.ReLU()
        self.layer1 = nn.Sequential(nn.Conv2d(width, 2 * width, 3, 2, 1), nn.ReLU())
        self.layer2 = nn.Sequential(nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.ReLU())
        self.num_features = 4 * width
        self.feature_info = [
            dict(num_chs=width, reduction=2, module="act1"),
            dict(num_chs=2 * width, reduction=4, module="layer1"),
            dict(num_chs=4 * width, reduction=8, module="layer2"),
        ]
        self.global_pool, self.fc = create_classifier(self.num_features, num_classes, global_pool)
        self.head_hidden_size = self.num_features * pool_feat_mult(global_pool)
        self.drop = nn.Dropout(drop_rate)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        pool_type = self.global_pool.pool_type if global_pool is None else global_pool
        p = next(self.parameters())
        self.num_classes = num_classes
        self.global_pool, self.fc = create_classifier(self.num_features, num_classes, pool_type, p.device, p.dtype)
        self.global_pool.train(self.training)
        self.fc.train(self.training)
        self.head_hidden_size = self.num_features * pool_feat_mult(pool_type)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.conv1(x)))
        return self.layer2(self.layer1(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.drop(self.global_pool(x))
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class TinyNetIntermediates(TinyNet):
    """TinyNet with ``forward_intermediates`` (taps 0..2 = act1, layer1, layer2)."""

    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: Any = None,
        stop_early: bool = False,
        intermediates_only: bool = False,
        **_: Any,
    ) -> Any:
        take = list(range(3)) if indices is None else [i % 3 for i in indices]
        outs = []
        x = self.act1(self.bn1(self.conv1(x)))
        stages = [nn.Identity(), self.layer1, self.layer2]
        last = max(take) if stop_early else 2
        for i in range(last + 1):
            x = stages[i](x)
            if i in take:
                outs.append(x)
        return outs if intermediates_only else (x, outs)


class TinyNetRemap(TinyNet):
    """TinyNet whose checkpoints may come with foreign key names ('stem.' instead of 'conv1.')."""

    @staticmethod
    def checkpoint_filter_fn(state_dict: dict[str, Any]) -> dict[str, Any]:
        return {("conv1." + k[5:] if k.startswith("stem.") else k): v for k, v in state_dict.items()}


class TinyNetBadReset(TinyNet):
    """Breaks the contract: reset_classifier ignores the model's dtype and train/eval mode."""

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        pool_type = self.global_pool.pool_type if global_pool is None else global_pool
        self.num_classes = num_classes
        self.global_pool, self.fc = create_classifier(self.num_features, num_classes, pool_type)


_CFG = dict(num_classes=10, first_conv="conv1", classifier="fc", input_size=(3, 32, 32), pool_size=(4, 4))


class TinyPlugin:
    """The test plugin: three tiny models, with pretrained configs and a deprecated name."""

    @hookimpl
    def pimm_models(self) -> list[ModelSpec]:
        cfgs = {
            "untrained": PretrainedCfg(**_CFG),
            "a_in1k": PretrainedCfg(hf_hub_id=HUB_ID, url=URL, **_CFG),
            "b_in1k": PretrainedCfg(url="https://example.invalid/weights/tinytest_b-4567.pth", **_CFG),
        }
        tags = frozenset({"classifier", "features"})
        return [
            ModelSpec(
                name="tinytest",
                target="model_helpers:TinyNet",
                options=TinyOptions,
                pretrained_cfgs=cfgs,
                deprecated_names={"old_tinytest": "tinytest.b_in1k"},
                tags=tags,
                summary="Tiny test CNN.",
            ),
            ModelSpec(
                name="tinytest_fi",
                target="model_helpers:TinyNetIntermediates",
                options=TinyOptions,
                pretrained_cfgs={"untrained": PretrainedCfg(**_CFG)},
                tags=tags | {"intermediates"},
                summary="Tiny test CNN with forward_intermediates.",
            ),
            ModelSpec(
                name="tinytest_remap",
                target="model_helpers:TinyNetRemap",
                options=TinyOptions,
                tags=tags,
                summary="Tiny test CNN with a checkpoint filter.",
            ),
        ]


class BrokenPlugin:
    """A plugin with one model that breaks the contract (for testing the checks themselves)."""

    @hookimpl
    def pimm_models(self) -> list[ModelSpec]:
        return [
            ModelSpec(
                name="tinytest_badreset",
                target="model_helpers:TinyNetBadReset",
                options=TinyOptions,
                pretrained_cfgs={"untrained": PretrainedCfg(**_CFG)},
                tags=frozenset({"classifier", "features"}),
            )
        ]


@contextlib.contextmanager
def tiny_models() -> Iterator[None]:
    """Register the tiny test plugin for the duration of the block."""
    plugin = TinyPlugin()
    core.register_plugin(plugin, name=PLUGIN_NAME)
    try:
        yield
    finally:
        core.unregister_plugin(PLUGIN_NAME)


def make_hf_cache(root: Any, repo_id: str, files: dict[str, Any], revision: str = "main",
                  commit: str = "0123456789abcdef0123456789abcdef01234567") -> Any:
    """Write ``files`` (name → state dict or bytes) into a Hugging Face cache layout under ``root``.

    Returns the snapshot directory. State dicts become safetensors (``*.safetensors``) or
    ``torch.save`` pickles (other names); bytes are written as they are.
    """
    from pathlib import Path

    from safetensors.torch import save_file

    repo = Path(root) / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / revision).write_text(commit)
    for name, content in files.items():
        path = snap / name
        if isinstance(content, (bytes, str)):
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        elif name.endswith(".safetensors"):
            save_file({k: v.contiguous() for k, v in content.items()}, str(path))
        else:
            torch.save(content, str(path))
    return snap


def tiny_state_dict(seed: int = 0, num_classes: int = 10, **options: Any) -> dict[str, torch.Tensor]:
    """A state dict of ``TinyNet`` with random weights drawn from ``seed``."""
    torch.manual_seed(seed)
    model = TinyNet(num_classes=num_classes, **options)
    for p in model.parameters():
        nn.init.normal_(p)
    return {k: v.clone() for k, v in model.state_dict().items()}


def _tiny_env_fixture(tmp_path: Any, monkeypatch: Any) -> Iterator[Any]:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("PIMM_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with tiny_models():
        yield tmp_path


try:
    import pytest

    #: Fixture: the tiny models registered, hub/torch caches in tmp_path, network switched off.
    tiny_env = pytest.fixture(_tiny_env_fixture)
except ImportError:  # pragma: no cover
    pass
