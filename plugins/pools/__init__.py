"""Builtin plugin 'pools': the global pooling components every classifier head can use.

Specs only (no torch import here); the modules live in :mod:`pimm.plugins.pools.pooling`.
"""

from pimm.core import hookimpl
from pimm.core.specs import PoolSpec

_TARGET = "pimm.plugins.pools.pooling:"
_OPTIONS = "pimm.core.models.options:PoolOptions"


@hookimpl
def pimm_pools() -> list[PoolSpec]:
    """The five builtin global pools."""
    return [
        PoolSpec(
            name="avg",
            target=_TARGET + "AvgPool",
            options=_OPTIONS,
            feat_mult=1,
            tags=frozenset({"pool"}),
            summary="Global average pooling over H and W.",
        ),
        PoolSpec(
            name="max",
            target=_TARGET + "MaxPool",
            options=_OPTIONS,
            feat_mult=1,
            tags=frozenset({"pool"}),
            summary="Global max pooling over H and W.",
        ),
        PoolSpec(
            name="avgmax",
            target=_TARGET + "AvgMaxPool",
            options=_OPTIONS,
            feat_mult=1,
            tags=frozenset({"pool"}),
            summary="Mean of global average and global max pooling.",
        ),
        PoolSpec(
            name="catavgmax",
            target=_TARGET + "CatAvgMaxPool",
            options=_OPTIONS,
            feat_mult=2,
            tags=frozenset({"pool"}),
            summary="Global average and global max pooling concatenated on the channel axis (2x channels).",
        ),
        PoolSpec(
            name="",
            target=_TARGET + "NoPool",
            options=_OPTIONS,
            feat_mult=1,
            tags=frozenset({"pool", "identity"}),
            summary="No pooling: feature maps pass through unchanged (flattened only if asked).",
        ),
    ]
