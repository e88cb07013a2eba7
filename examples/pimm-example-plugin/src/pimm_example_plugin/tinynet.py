"""TinyNet: a three-stage CNN that follows pimm's model contract in about a hundred lines.

It shows what a third-party architecture needs: ``forward_features`` / ``forward_head``, a head
whose pooling is any registered pool (``pimm.core.models.head``), ``reset_classifier``,
``feature_info`` for ``features_only``, and the attributes the factory and the optimizer factory
read (``num_features``, ``head_hidden_size``, ``group_matcher``, ``no_weight_decay``).
"""

# No ``from __future__ import annotations``: torch.fx copies forward's annotations into the code
# it generates, and TorchScript cannot resolve string annotations there.

import torch
from torch import nn

from pimm.core.errors import ConfigError
from pimm.core.models.head import create_classifier, module_device_dtype, pool_feat_mult


def _conv_bn_act(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyNet(nn.Module):
    """Stem and two stages of strided 3x3 convs; widths ``(w, 2w, 4w)``; total stride 8."""

    def __init__(self, width: int = 16, num_classes: int = 1000, in_chans: int = 3, global_pool: str = "avg",
                 drop_rate: float = 0.0, drop_path_rate: float = 0.0, output_stride: int = 32) -> None:
        super().__init__()
        if output_stride != 32:
            raise ConfigError("TinyNet does not support dilation: leave output_stride at 32")
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.drop_rate = drop_rate
        self.grad_checkpointing = False
        self.pretrained_cfg: dict = {}
        widths = (width, 2 * width, 4 * width)
        self.stem = _conv_bn_act(in_chans, widths[0], 2)
        self.stage1 = _conv_bn_act(widths[0], widths[1], 2)
        self.stage2 = _conv_bn_act(widths[1], widths[2], 2)
        self.feature_info = [
            {"num_chs": widths[0], "reduction": 2, "module": "stem"},
            {"num_chs": widths[1], "reduction": 4, "module": "stage1"},
            {"num_chs": widths[2], "reduction": 8, "module": "stage2"},
        ]
        self.num_features = widths[2]
        self.global_pool, self.fc = create_classifier(self.num_features, num_classes, global_pool)
        self.head_hidden_size = self.num_features * pool_feat_mult(global_pool)
        self.head_drop = nn.Dropout(drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Unpooled feature maps, ``(N, 4w, H/8, W/8)``."""
        return self.stage2(self.stage1(self.stem(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool, dropout, classify (``pre_logits=True`` stops before the classifier)."""
        x = self.head_drop(self.global_pool(x))
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(self, x: torch.Tensor, indices=None, norm: bool = False, stop_early: bool = False,
                              output_fmt: str = "NCHW", intermediates_only: bool = False):
        """Feature maps of the selected levels (``indices``: None = all, int = last n, list)."""
        count = len(self.feature_info)
        if indices is None:
            wanted = list(range(count))
        elif isinstance(indices, int):
            wanted = list(range(count - indices, count))
        else:
            wanted = [i % count for i in indices]
        intermediates = []
        for i, stage in enumerate((self.stem, self.stage1, self.stage2)):
            x = stage(x)
            if i in wanted:
                intermediates.append(x)
            if stop_early and i >= max(wanted):
                break
        if intermediates_only:
            return intermediates
        if stop_early and max(wanted) < count - 1:
            return x, intermediates
        return x, intermediates

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """New classifier (and pool, unless None), keeping device, dtype and train/eval mode."""
        pool = getattr(self.global_pool, "pool_type", "avg") if global_pool is None else global_pool
        device, dtype = module_device_dtype(self)
        self.num_classes = num_classes
        self.global_pool, self.fc = create_classifier(self.num_features, num_classes, pool, device, dtype)
        self.head_hidden_size = self.num_features * pool_feat_mult(pool)
        self.global_pool.train(self.training)
        self.fc.train(self.training)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable

    def no_weight_decay(self) -> set[str]:
        return set()

    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        return {"stem": r"^stem", "blocks": r"^stage(\d+)"}
