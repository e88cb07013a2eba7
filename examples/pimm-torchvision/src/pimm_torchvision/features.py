"""Feature levels of a bridged torchvision model, computed with ``torchvision.models.feature_extraction``.

The levels (module, channels, reduction) come from the spec table, where they were measured once.
At run time :meth:`FeatureMixin.forward_intermediates` asks torchvision's FX feature extractor for
those modules' outputs. The extractor traces a *view* of the body: a module that holds the same
child modules (shared, not copied) and runs the same body code, so the trace never enters pimm's
head. Swin keeps its maps channel-last inside, so its levels are read directly and permuted to NCHW.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from pimm.core.errors import ConfigError

__all__ = ["FeatureMixin", "BodyView"]

_VIEW_ATTRS = ("family", "tv_name", "transform_input", "_body")


class BodyView(nn.Module):
    """The body of a TorchvisionNet as its own module (children shared with the model)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        for name in model._body:
            self.add_module(name, getattr(model, name))
        for attr in _VIEW_ATTRS:
            object.__setattr__(self, attr, getattr(model, attr))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from .model import run_body

        return run_body(self, x)


def _wanted(indices: int | Sequence[int] | None, count: int) -> list[int]:
    if indices is None:
        return list(range(count))
    if isinstance(indices, int):
        if not 0 < indices <= count:
            raise ConfigError(f"indices={indices}: this model has {count} feature levels")
        return list(range(count - indices, count))
    picked = []
    for index in indices:
        if not -count <= index < count:
            raise ConfigError(f"feature level {index} does not exist: this model has {count} (0..{count - 1})")
        picked.append(index % count)
    return picked


class FeatureMixin:
    """``feature_info`` and ``forward_intermediates`` for :class:`~pimm_torchvision.model.TorchvisionNet`."""

    def _feature_info(self, levels: list[dict[str, Any]] | None, output_stride: int) -> list[dict[str, Any]] | None:
        if levels is None:
            return None
        return [{**level, "reduction": min(int(level["reduction"]), output_stride)} for level in levels]

    def _extractor(self) -> nn.Module:
        cached = self.__dict__.get("_fx_extractor")
        if cached is None:
            from torchvision.models.feature_extraction import create_feature_extractor

            nodes = {level["module"]: str(i) for i, level in enumerate(self.feature_info)}
            cached = create_feature_extractor(BodyView(self), return_nodes=nodes)
            cached.eval()
            self.__dict__["_fx_extractor"] = cached
        return cached

    def _levels(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.family == "swin":
            wanted = {level["module"]: i for i, level in enumerate(self.feature_info)}
            outs: list[torch.Tensor] = [None] * len(wanted)  # type: ignore[list-item]
            for name, stage in self.features.named_children():
                x = stage(x)
                if f"features.{name}" in wanted:
                    outs[wanted[f"features.{name}"]] = x.permute(0, 3, 1, 2)
            return outs
        found = self._extractor()(x)
        return [found[str(i)] for i in range(len(self.feature_info))]

    def forward_intermediates(self, x: torch.Tensor, indices: int | Sequence[int] | None = None, norm: bool = False,
                              stop_early: bool = False, output_fmt: str = "NCHW",
                              intermediates_only: bool = False) -> Any:
        """Feature maps of the selected levels (None = all, int n = last n, or a list of indices).

        Returns the list alone with ``intermediates_only``, else ``(forward_features(x), list)``.
        """
        if self.feature_info is None:
            raise ConfigError(f"{self.tv_name} is a token model: it has no feature maps (use forward_features "
                              "for its tokens)")
        if output_fmt != "NCHW":
            raise ConfigError(f"output_fmt {output_fmt!r} is not supported; feature maps are NCHW")
        picked = _wanted(indices, len(self.feature_info))
        levels = self._levels(x)
        chosen = [levels[i] for i in picked]
        if intermediates_only:
            return chosen
        return self.forward_features(x), chosen
