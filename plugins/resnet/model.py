"""The generic ResNet: one class for every architecture of the family (timm's layout and keys).

Architecture knobs (block type, depths, stem, avg-down, groups, attention, anti-aliasing...) come
from the spec's ``arch_args``; the standard model options (``num_classes``, ``global_pool``,
``output_stride``...) from the user. The head pools with any registered pool component.
"""

# No ``from __future__ import annotations`` here: torch.fx copies the annotations of the root
# ``forward`` into the code it generates, and TorchScript cannot resolve them as strings
# (torch.jit.script(torch.fx.symbolic_trace(model)) must work).

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from pimm.core.errors import ConfigError
from pimm.core.models.feature_info import normalize_out_indices
from pimm.core.models.head import create_classifier, module_device_dtype, pool_feat_mult

from .attention import attention_factory
from .blocks import BLOCKS
from .stages import make_stages
from .stem import make_stem_conv, make_stem_pool

__all__ = ["ResNet", "norm_factory"]

_STAGE_NAMES = ("layer1", "layer2", "layer3", "layer4")


def norm_factory(kind: str) -> Any:
    """A ``channels -> norm module`` builder: 'batchnorm' or 'groupnorm' (32 groups)."""
    if kind == "batchnorm":
        return nn.BatchNorm2d
    if kind == "groupnorm":
        return lambda channels: nn.GroupNorm(32, channels)
    raise ConfigError(f"unknown norm {kind!r} for ResNet; use 'batchnorm' or 'groupnorm'")


def _check_args(blocks: Sequence[str], layers: Sequence[int], channels: Sequence[int], output_stride: int) -> None:
    unknown = [b for b in blocks if b not in BLOCKS]
    if unknown:
        raise ConfigError(f"unknown ResNet block type(s) {unknown}; use {sorted(BLOCKS)}")
    if len(layers) != 4 or len(channels) != 4 or len(blocks) != 4:
        raise ConfigError(
            f"ResNet needs 4 stages: got {len(layers)} layer counts, {len(channels)} channel widths, "
            f"{len(blocks)} block types"
        )
    if any(n < 1 for n in layers):
        raise ConfigError(f"every ResNet stage needs at least one block, got layers={list(layers)}")
    if output_stride not in (8, 16, 32):
        raise ConfigError(f"output_stride must be 8, 16 or 32, got {output_stride}")


class ResNet(nn.Module):
    """ResNet / ResNeXt / SE-ResNeXt / ECA-ResNet / ResNet-RS / SENet, configured by its arguments."""

    def __init__(
        self,
        block: str | Sequence[str] = "bottleneck",
        layers: Sequence[int] = (3, 4, 6, 3),
        num_classes: int = 1000,
        in_chans: int = 3,
        output_stride: int = 32,
        global_pool: str = "avg",
        cardinality: int = 1,
        base_width: int = 64,
        stem_width: int = 64,
        stem_type: str = "",
        replace_stem_pool: bool = False,
        block_reduce_first: int = 1,
        down_kernel_size: int = 1,
        avg_down: bool = False,
        channels: Sequence[int] = (64, 128, 256, 512),
        norm: str = "batchnorm",
        aa: str = "",
        attn: str = "",
        attn_rd_ratio: float | None = None,
        pruned_widths: Sequence[Sequence[Sequence[int]]] | None = None,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        drop_block_rate: float = 0.0,
        zero_init_last: bool = True,
    ) -> None:
        super().__init__()
        blocks = [block] * len(channels) if isinstance(block, str) else list(block)
        _check_args(blocks, layers, channels, output_stride)
        norm_layer = norm_factory(norm)
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.drop_rate = float(drop_rate)
        self.grad_checkpointing = False
        self.pretrained_cfg = {}

        self.conv1, inplanes = make_stem_conv(in_chans, stem_type, stem_width, norm_layer)
        self.bn1 = norm_layer(inplanes)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = make_stem_pool(inplanes, replace_stem_pool, aa, norm_layer)
        self.feature_info = [{"num_chs": inplanes, "reduction": 2, "module": "act1"}]

        stages, stage_info = make_stages(
            blocks, channels, layers, inplanes,
            norm=norm_layer, output_stride=output_stride, down_kernel_size=down_kernel_size,
            avg_down=avg_down, drop_block_rate=drop_block_rate, drop_path_rate=drop_path_rate,
            pruned_widths=pruned_widths, cardinality=cardinality, base_width=base_width,
            reduce_first=block_reduce_first, attn=attention_factory(attn, attn_rd_ratio), aa=aa,
        )
        for name, stage in stages:
            self.add_module(name, stage)
        self.feature_info.extend(stage_info)

        self.num_features = stage_info[-1]["num_chs"]
        self.global_pool, self.fc = create_classifier(self.num_features, num_classes, global_pool)
        self.head_hidden_size = self.num_features * pool_feat_mult(global_pool)
        self.init_weights(zero_init_last=zero_init_last)

    @torch.jit.ignore
    def init_weights(self, zero_init_last: bool = True) -> None:
        """He-normal (fan-out) init of every conv; optionally zero the last norm of each block."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        if zero_init_last:
            for module in self.modules():
                if hasattr(module, "zero_init_last"):
                    module.zero_init_last()

    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        """Regexes grouping parameter names into stem and blocks (per stage when ``coarse``)."""
        return {"stem": r"^conv1|bn1|maxpool", "blocks": r"^layer(\d+)" if coarse else r"^layer(\d+)\.(\d+)"}

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute each block's activations in backward instead of storing them."""
        self.grad_checkpointing = enable

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        """Parameter names to exclude from weight decay (none beyond the usual 1-D params)."""
        return set()

    @torch.jit.ignore
    def get_classifier(self, name_only: bool = False) -> nn.Module | str:
        """The classifier module (``fc``), or its name."""
        return "fc" if name_only else self.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """New classifier for ``num_classes`` (0: none) and pooling (None keeps the current one)."""
        if global_pool is None:
            global_pool = getattr(self.global_pool, "pool_type", "avg")
        device, dtype = module_device_dtype(self)
        self.num_classes = num_classes
        self.global_pool, self.fc = create_classifier(self.num_features, num_classes, global_pool, device, dtype)
        self.head_hidden_size = self.num_features * pool_feat_mult(global_pool)
        self.global_pool.train(self.training)
        self.fc.train(self.training)

    @torch.jit.unused
    def _stages_checkpointed(self, x: torch.Tensor, stages: Sequence[nn.Module]) -> torch.Tensor:
        for stage in stages:
            for blk in stage:
                x = checkpoint(blk, x, use_reentrant=False)
        return x

    def _stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.act1(self.bn1(self.conv1(x)))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Unpooled feature maps (B, num_features, H/32, W/32 at output_stride 32)."""
        x = self.maxpool(self._stem(x))
        if self.grad_checkpointing and not torch.jit.is_scripting():
            return self._stages_checkpointed(x, [self.layer1, self.layer2, self.layer3, self.layer4])
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        return x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool, dropout, classify (``pre_logits``: stop before the classifier)."""
        x = self.global_pool(x)
        if self.drop_rate > 0.0:
            x = F.dropout(x, p=self.drop_rate, training=self.training)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    @torch.jit.ignore
    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: int | Sequence[int] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """Features of the selected levels (0 = stem, 1..4 = layer1..4) and, unless
        ``intermediates_only``, the final feature map. ``indices``: None = all, int n = last n,
        sequence = those levels (negatives allowed)."""
        if output_fmt != "NCHW":
            raise ConfigError(f"ResNet intermediates are NCHW only, got output_fmt={output_fmt!r}")
        take = normalize_out_indices(indices, len(self.feature_info))
        last = max(take)
        feats: list[torch.Tensor] = []
        x = self._stem(x)
        if 0 in take:
            feats.append(x)
        x = self.maxpool(x)
        names = _STAGE_NAMES[:last] if stop_early else _STAGE_NAMES
        for level, name in enumerate(names, start=1):
            stage = getattr(self, name)
            if self.grad_checkpointing:
                x = self._stages_checkpointed(x, [stage])
            else:
                x = stage(x)
            if level in take:
                feats.append(x)
        if intermediates_only:
            return feats
        return x, feats

    @torch.jit.ignore
    def prune_intermediate_layers(
        self, indices: int | Sequence[int] = 1, prune_norm: bool = False, prune_head: bool = True
    ) -> list[int]:
        """Drop the stages after the last selected level (and the head); return the kept indices."""
        take = normalize_out_indices(indices, len(self.feature_info))
        last = max(take)
        for name in _STAGE_NAMES[last:]:
            setattr(self, name, nn.Sequential())
        if last == 0:
            self.maxpool = nn.Identity()
        if last < len(_STAGE_NAMES):
            self.num_features = self.head_hidden_size = self.feature_info[last]["num_chs"]
        if prune_head or last < len(_STAGE_NAMES):
            self.reset_classifier(0, "")
        return list(take)
