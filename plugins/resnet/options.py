"""User options of the ResNet family (no torch)."""

from __future__ import annotations

from pydantic import Field

from pimm.core.models.options import ModelOptions

__all__ = ["ResNetOptions"]


class ResNetOptions(ModelOptions):
    """The standard model options plus ResNet's regularisation and init switches."""

    drop_block_rate: float = Field(
        0.0, ge=0.0, lt=1.0, description="DropBlock probability in the last two stages (0 disables it)."
    )
    zero_init_last: bool = Field(
        True, description="Zero-init the last norm of each residual branch so blocks start as identities."
    )
