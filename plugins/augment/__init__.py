"""Builtin plugin 'augment': RandAugment/AutoAugment/AugMix ops and policies, the image transforms
of the training and eval pipelines, RandomErasing and Mixup/CutMix.

Only specs live here (no torch or PIL import); the code sits in the sibling modules their
targets name.
"""

from __future__ import annotations

from pimm.core import hookimpl

from .op_specs import OP_SPECS
from .policy_specs import POLICY_SPECS
from .transform_specs import TRANSFORM_SPECS


@hookimpl
def pimm_augment_ops():
    """The builtin augmentation ops, policies and transforms."""
    return [*OP_SPECS, *POLICY_SPECS, *TRANSFORM_SPECS]
