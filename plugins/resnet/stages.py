"""Building the four ResNet stages (``layer1``..``layer4``) from per-stage settings.

Strides 1, 2, 2, 2; once the requested output stride is reached, later stages dilate instead of
striding. Drop-path rates grow linearly over all blocks; DropBlock is used in the last two stages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from pimm.core.models.layers import DropBlock2d

from .blocks import BLOCKS, make_downsample

__all__ = ["make_stages"]


def _drop_block(stage_idx: int, rate: float) -> nn.Module | None:
    if rate <= 0.0 or stage_idx < 2:
        return None
    return DropBlock2d(rate, block_size=5, gamma_scale=0.25) if stage_idx == 2 else DropBlock2d(rate, 3, 1.0)


def make_stages(
    blocks: Sequence[str],
    channels: Sequence[int],
    layers: Sequence[int],
    inplanes: int,
    *,
    norm: Callable[[int], nn.Module],
    output_stride: int = 32,
    down_kernel_size: int = 1,
    avg_down: bool = False,
    drop_block_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    pruned_widths: Sequence[Sequence[Sequence[int]]] | None = None,
    **block_kwargs: Any,
) -> tuple[list[tuple[str, nn.Sequential]], list[dict[str, Any]]]:
    """(``[(layerN, stage), ...]``, feature_info dicts) for the given per-stage settings."""
    stages: list[tuple[str, nn.Sequential]] = []
    feature_info: list[dict[str, Any]] = []
    total_blocks = sum(layers)
    block_idx = 0
    net_stride = 4
    dilation = prev_dilation = 1
    for stage_idx, (kind, planes, depth) in enumerate(zip(blocks, channels, layers)):
        block_cls = BLOCKS[kind]
        stride = 1 if stage_idx == 0 else 2
        if net_stride >= output_stride:
            dilation *= stride
            stride = 1
        else:
            net_stride *= stride
        stage_widths = pruned_widths[stage_idx] if pruned_widths is not None else None
        outplanes = stage_widths[0][-1] if stage_widths is not None else planes * block_cls.expansion
        downsample = None
        if stride != 1 or inplanes != outplanes:
            downsample = make_downsample(
                inplanes, outplanes, stride, dilation, prev_dilation, down_kernel_size, avg_down, norm
            )
        stage_blocks = []
        for i in range(depth):
            dpr = drop_path_rate * block_idx / max(total_blocks - 1, 1)
            stage_blocks.append(
                block_cls(
                    inplanes,
                    planes,
                    stride=stride if i == 0 else 1,
                    downsample=downsample if i == 0 else None,
                    dilation=dilation,
                    first_dilation=prev_dilation,
                    norm=norm,
                    drop_block=_drop_block(stage_idx, drop_block_rate),
                    drop_path=dpr,
                    widths=stage_widths[i] if stage_widths is not None else None,
                    **block_kwargs,
                )
            )
            prev_dilation = dilation
            inplanes = outplanes
            block_idx += 1
        name = f"layer{stage_idx + 1}"
        stages.append((name, nn.Sequential(*stage_blocks)))
        feature_info.append({"num_chs": inplanes, "reduction": net_stride, "module": name})
    return stages, feature_info
