"""VGG in timm's layout: a flat ``features`` Sequential, a conv-MLP ``pre_logits``, ``head.fc``."""

# No ``from __future__ import annotations`` here: torch.fx copies the annotations of the root
# ``forward`` into the code it generates, and TorchScript cannot resolve them as strings
# (torch.jit.script(torch.fx.symbolic_trace(model)) must work).

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pimm.core.errors import ConfigError
from pimm.core.models.feature_info import normalize_out_indices
from pimm.core.models.head import ClassifierHead, module_device_dtype

from .remap import remap_torchvision_vgg

__all__ = ["VGG", "ConvMlp"]


@torch.fx.wrap
def _at_least(x: torch.Tensor, size: int) -> torch.Tensor:
    """Average-pool maps smaller than ``size`` up to ``size`` (a leaf for FX tracing)."""
    height, width = x.shape[-2], x.shape[-1]
    if height < size or width < size:
        x = F.adaptive_avg_pool2d(x, (max(size, height), max(size, width)))
    return x


class ConvMlp(nn.Module):
    """The VGG classifier MLP as convolutions: 7x7 conv ``fc1`` → ReLU → dropout → 1x1 conv ``fc2`` → ReLU."""

    def __init__(self, in_features: int = 512, out_features: int = 4096, kernel_size: int = 7,
                 drop_rate: float = 0.0) -> None:
        super().__init__()
        self.input_kernel_size = kernel_size
        self.fc1 = nn.Conv2d(in_features, out_features, kernel_size, bias=True)
        self.act1 = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(drop_rate)
        self.fc2 = nn.Conv2d(out_features, out_features, 1, bias=True)
        self.act2 = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _at_least(x, self.input_kernel_size)
        x = self.drop(self.act1(self.fc1(x)))
        return self.act2(self.fc2(x))


class VGG(nn.Module):
    """VGG built from a layer config (conv widths and 'M' pools), optionally with batch norm."""

    #: torchvision VGG checkpoints (``classifier.*`` keys) load through this remap; pimm/timm keys pass through.
    checkpoint_filter_fn = staticmethod(remap_torchvision_vgg)

    def __init__(
        self,
        layer_cfg: Sequence[Any],
        batch_norm: bool = False,
        num_classes: int = 1000,
        in_chans: int = 3,
        output_stride: int = 32,
        global_pool: str = "avg",
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        mlp_width: int = 4096,
    ) -> None:
        super().__init__()
        if output_stride != 32:
            raise ConfigError(f"VGG supports only output_stride=32, got {output_stride}")
        if not isinstance(mlp_width, int) or mlp_width <= 0:
            raise ConfigError(f"VGG mlp_width (an architecture argument) must be a positive int, got {mlp_width!r}")
        if drop_path_rate:
            raise ConfigError("VGG has no residual branches, so drop_path_rate must be 0")
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.drop_rate = float(drop_rate)
        self.grad_checkpointing = False
        self.pretrained_cfg = {}
        self.feature_info = []  # no annotation here: TorchScript warns on annotated attributes in __init__
        self.feature_ends = []
        layers: list[nn.Module] = []
        channels, stride = in_chans, 1
        for item in layer_cfg:
            if item == "M":
                tap = f"features.{len(layers) - 1}"
                self.feature_info.append({"num_chs": channels, "reduction": stride, "module": tap})
                self.feature_ends.append(len(layers) - 1)
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                stride *= 2
                continue
            if not isinstance(item, int) or item <= 0:
                raise ConfigError(f"VGG layer_cfg entries are positive ints or 'M', got {item!r}")
            layers.append(nn.Conv2d(channels, item, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(item))
            layers.append(nn.ReLU(inplace=True))
            channels = item
        self.features = nn.Sequential(*layers)
        self.feature_info.append({"num_chs": channels, "reduction": stride, "module": f"features.{len(layers) - 1}"})
        self.feature_ends.append(len(layers) - 1)
        self.num_features = channels
        self.pre_logits: nn.Module = ConvMlp(channels, mlp_width, 7, drop_rate=drop_rate)
        self.head = ClassifierHead(mlp_width, num_classes, global_pool, drop_rate)
        self.head_hidden_size = self.head.num_features
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        """Regexes grouping parameter names into stem and blocks."""
        return {"stem": r"^features\.0", "blocks": r"^features\.(\d+)"}

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """VGG does not support gradient checkpointing; enabling it is an error."""
        if enable:
            raise ConfigError("VGG does not support gradient checkpointing")

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        """Parameter names to exclude from weight decay (none beyond the usual 1-D params)."""
        return set()

    @torch.jit.ignore
    def get_classifier(self) -> nn.Module:
        """The classifier module (``head.fc``)."""
        return self.head.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """New classifier for ``num_classes`` (0: none) and pooling (None keeps the current one)."""
        self.num_classes = num_classes
        self.head.reset(num_classes, global_pool)
        self.head_hidden_size = self.head.num_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature maps after the last max pool (B, 512, H/32, W/32)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Conv-MLP, pool, dropout, classify (``pre_logits``: stop before the classifier)."""
        x = self.pre_logits(x)
        return self.head(x, pre_logits=pre_logits)

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
        """Maps at each level (0-4: last activation of each conv stage, 5: the final pool) and,
        unless ``intermediates_only``, the final feature map."""
        if output_fmt != "NCHW":
            raise ConfigError(f"VGG intermediates are NCHW only, got output_fmt={output_fmt!r}")
        take = normalize_out_indices(indices, len(self.feature_ends))
        taps = {self.feature_ends[i]: i for i in take}
        end = self.feature_ends[max(take)] + 1 if stop_early else len(self.features)
        feats: list[torch.Tensor] = []
        for i, layer in enumerate(self.features[:end]):
            x = layer(x)
            if i in taps:
                feats.append(x)
        if intermediates_only:
            return feats
        return x, feats

    @torch.jit.ignore
    def prune_intermediate_layers(
        self, indices: int | Sequence[int] = 1, prune_norm: bool = False, prune_head: bool = True
    ) -> list[int]:
        """Drop layers after the last selected level (and the head); return the kept indices."""
        take = normalize_out_indices(indices, len(self.feature_ends))
        last = max(take)
        self.features = self.features[: self.feature_ends[last] + 1]
        pruned_end = last < len(self.feature_ends) - 1
        if pruned_end:
            self.num_features = self.feature_info[last]["num_chs"]
        if prune_head or pruned_end:
            device, dtype = module_device_dtype(self)
            self.pre_logits = nn.Identity()
            self.head = ClassifierHead(self.num_features, 0, "", self.drop_rate, device, dtype)
            self.head.train(self.training)
            self.head_hidden_size = self.num_features
            self.num_classes = 0
        return list(take)
