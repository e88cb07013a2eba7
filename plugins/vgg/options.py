"""User options of the VGG family (no torch)."""

from __future__ import annotations

from pydantic import field_validator

from pimm.core.models.options import ModelOptions

__all__ = ["VGGOptions"]


class VGGOptions(ModelOptions):
    """The standard model options; VGG has no dilation (output_stride 32) and no residual branches."""

    @field_validator("output_stride")
    @classmethod
    def _only_32(cls, value: int) -> int:
        if value != 32:
            raise ValueError(f"VGG supports only output_stride=32 (it cannot dilate), got {value}")
        return value

    @field_validator("drop_path_rate")
    @classmethod
    def _no_drop_path(cls, value: float) -> float:
        if value != 0.0:
            raise ValueError("VGG has no residual branches, so drop_path_rate must be 0")
        return value
