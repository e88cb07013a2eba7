"""Every builtin op class in one namespace (they live in themed modules), and the contract names.

The public home of the op contract is :mod:`pimm.core.data.augment`; ``AugmentOp``,
``sample_magnitude`` and ``sample_magnitudes`` are re-exported here for code written against
earlier releases.
"""

from __future__ import annotations

from pimm.core.data.augment.magnitude import sample_magnitude, sample_magnitudes
from pimm.core.data.augment.op import AugmentOp

from .op_base import BuiltinOp
from .ops_enhance import *  # noqa: F403
from .ops_enhance import __all__ as _enhance
from .ops_filter import Cutout, GaussianBlur, GaussianBlurRand
from .ops_geometric import *  # noqa: F403
from .ops_geometric import __all__ as _geometric
from .ops_levels import *  # noqa: F403
from .ops_levels import __all__ as _levels

__all__ = [
    "AugmentOp", "BuiltinOp", "sample_magnitude", "sample_magnitudes",
    *_levels, *[n for n in _enhance if n[0].isupper()], *_geometric, "GaussianBlur", "GaussianBlurRand", "Cutout",
]
