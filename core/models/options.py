"""The standard user options of every model, and of every pool.

``ModelOptions`` holds the keyword options a timm user passes to ``create_model`` for any
architecture (``num_classes``, ``in_chans``, ``global_pool`` ...). Model families subclass it to add
their own (ResNet adds ``drop_block_rate`` and ``zero_init_last``). ``PoolOptions`` holds the options
of a global pooling component. This module imports no torch.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from ..specs import Options

__all__ = ["ModelOptions", "PoolOptions", "OUTPUT_STRIDES"]

#: Output strides a dilating backbone can be asked for.
OUTPUT_STRIDES: tuple[int, ...] = (8, 16, 32)


def _check_pool_name(value: str | None) -> str:
    """Return ``value`` ('' for None) if a pool of that name is registered, else raise ValueError."""
    name = value or ""
    if name == "":
        return name
    from ..errors import LookupFailure
    from ..factory import resolve

    try:
        resolve("pool", name, prefer_builtin=True)  # core's default pool names resolve to the builtin
    except LookupFailure as exc:
        raise ValueError(f"{exc} (global_pool must name a registered pool, or '' for no pooling)") from None
    return name


class ModelOptions(Options):
    """Options every model accepts (timm's common ``create_model`` keyword arguments)."""

    num_classes: int = Field(
        1000, ge=0, description="Number of classifier outputs; 0 removes the classifier (pooled features out)."
    )
    in_chans: int = Field(3, ge=1, description="Number of input image channels.")
    global_pool: str = Field(
        "avg",
        description="Name of any registered pool component used before the classifier "
        "('avg', 'max', 'avgmax', 'catavgmax', third-party ones...); '' returns unpooled feature maps.",
    )
    drop_rate: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout probability before the classifier.")
    drop_path_rate: float = Field(
        0.0, ge=0.0, lt=1.0, description="Stochastic depth: drop-path probability of the last block (linear rule)."
    )
    output_stride: int = Field(
        32, description="Total downsampling of the feature maps: 32, or 16 / 8 through dilated convolutions."
    )

    @field_validator("global_pool", mode="before")
    @classmethod
    def _pool_registered(cls, value: object) -> object:
        if value is None or isinstance(value, str):
            return _check_pool_name(value)
        return value

    @field_validator("output_stride")
    @classmethod
    def _stride_supported(cls, value: int) -> int:
        if value not in OUTPUT_STRIDES:
            raise ValueError(f"output_stride must be one of {OUTPUT_STRIDES}, got {value}")
        return value


class PoolOptions(Options):
    """Options every global pooling component accepts."""

    flatten: bool = Field(
        False, description="Return (B, C*feat_mult) vectors instead of (B, C*feat_mult, 1, 1) maps."
    )
