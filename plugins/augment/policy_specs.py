"""Specs of the augmentation policies (data only; no torch or PIL import).

A policy turns a config string into a transform that samples registered ops: ``randaugment``
(``rand-m9-n2-mstd0.5``), ``autoaugment`` (``v0``, ``original-mstd0.5`` ...) and ``augmix``
(``augmix-m3-w3-d-1``). :func:`pimm.core.data.augment_policy_from_config` picks the policy whose
``config_prefix`` equals the string's first section, and ``autoaugment`` otherwise.
"""

from __future__ import annotations

from pydantic import Field

from pimm.core.data.augment.options import OpHParams
from pimm.core.specs import AugmentSpec, Options

__all__ = ["PolicyOptions", "RandAugmentOptions", "POLICY_SPECS"]


class PolicyOptions(Options):
    """Options of a config-string policy."""

    config: str = Field(description="The config string, e.g. 'rand-m9-mstd0.5' (see docs/augment-ops.md).")
    hparams: OpHParams | None = Field(
        default=None, description="Shared op settings (img_mean fill, translate sizes, interpolation)."
    )


class RandAugmentOptions(PolicyOptions):
    """RandAugment options: the config string plus an optional explicit op set."""

    transforms: list[str] | dict[str, float] | None = Field(
        default=None,
        description="Op names to choose from (registered ops, third-party ones included), or op name → "
        "weight for weighted choice; overrides the config's op set.",
    )


POLICY_SPECS: list[AugmentSpec] = [
    AugmentSpec(
        name="randaugment",
        target="pimm.plugins.augment.policies:build_rand_augment",
        options=RandAugmentOptions,
        role="policy",
        config_prefix="rand",
        aliases=("rand_augment",),
        summary="RandAugment: n random ops per image at magnitude m ('rand-m9-n2-mstd0.5').",
    ),
    AugmentSpec(
        name="autoaugment",
        target="pimm.plugins.augment.policies:build_auto_augment",
        options=PolicyOptions,
        role="policy",
        config_prefix=None,
        aliases=("auto_augment",),
        summary="AutoAugment: one of the learned sub-policies per image ('v0', 'original-mstd0.5', '3a').",
    ),
    AugmentSpec(
        name="augmix",
        target="pimm.plugins.augment.policies:build_augmix",
        options=PolicyOptions,
        role="policy",
        config_prefix="augmix",
        summary="AugMix: Dirichlet-weighted mix of random op chains ('augmix-m3-w3-d-1-a1-b0').",
    ),
]
